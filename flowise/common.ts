/** What every OPEA Flowise node shares: the server credential, the endpoint, reading inputs. */
import { createEndpoint, Endpoint, ENDPOINT_DEFAULTS, validateEndpoint } from '../core/clients/endpoint';
import { coerceParam } from '../core/flow-json';
import { nodeTypeSpec } from '../core/node-types';
import { checkAllowed } from './deny-list';
import { hostModule } from './host';
import { ICommonObject, INodeData, INodeOptionsValue, INodeParams } from './interface';
import { flowiseWords, nodeName } from './words';

export const CREDENTIAL_NAME = 'opeaServerApi';

export const credentialParam = (): INodeParams => ({
  label: 'Connect Credential',
  name: 'credential',
  type: 'credential',
  credentialNames: [CREDENTIAL_NAME],
  optional: true,
  description: 'The OPEA server (base URL and API key); the Base URL input overrides its URL',
});

export const baseUrlParam = (): INodeParams => ({
  label: 'Base URL',
  name: 'baseUrl',
  type: 'string',
  optional: true,
  placeholder: 'http://embedding-svc:6000',
  description: 'The service to call; overrides the credential\'s URL',
  additionalParams: true,
});

export const timeoutParam = (): INodeParams => ({ label: 'Timeout (ms)', name: 'timeout', type: 'number', optional: true, default: 60000, additionalParams: true });

export const options = (...names: [string, string][]): INodeOptionsValue[] => names.map(([name, label]) => ({ name, label }));

/** The credential's fields: through the host's getCredentialData (as Flowise's own nodes do), or none. */
async function credentialData(nodeData: INodeData, opts: ICommonObject): Promise<ICommonObject> {
  if (!nodeData.credential) return {};
  const utils = hostModule('../../../src/utils') ?? hostModule('flowise-components');
  if (typeof utils?.getCredentialData !== 'function') {
    throw new Error('this node has a credential but Flowise\'s getCredentialData is not reachable: install the OPEA nodes into flowise-components/dist/nodes (see flowise/README.md)');
  }
  return (await utils.getCredentialData(nodeData.credential, opts)) ?? {};
}

export function str(inputs: ICommonObject | undefined, name: string, fallback = ''): string {
  const value = inputs?.[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : fallback;
}

/** Flowise stores number inputs as numbers or as the strings typed into the field. */
export function num(inputs: ICommonObject | undefined, name: string, fallback: number): number {
  const value = inputs?.[name];
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`input '${name}' is not a number: ${String(value)}`);
  return n;
}

export function bool(inputs: ICommonObject | undefined, name: string, fallback: boolean): boolean {
  const value = inputs?.[name];
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fallback;
}

/**
 * A number input held to the limits of the same setting of the Node-RED node (core/node-types.ts),
 * refused in the input's own words: "OPEA Chat Model (id): Max Tokens must be at least 1, not 0".
 */
export function limitedNumber(nodeData: INodeData, input: INodeParams, nodeType: string, key: string): number {
  const spec = nodeTypeSpec(nodeType)?.params.find((p) => p.key === key);
  if (!spec) throw new Error(`${nodeType} has no setting ${key}`);
  const raw = nodeData.inputs?.[input.name];
  const result = coerceParam(spec, typeof raw === 'string' ? raw.trim() : raw);
  if ('error' in result) throw new Error(`${nodeName(nodeData)}: ${input.label} ${result.error}, not ${JSON.stringify(raw)}`);
  return result.value as number;
}

/** The input named `name` of a node's input list (for its label in messages). */
export function inputNamed(inputs: INodeParams[], name: string): INodeParams {
  const found = inputs.find((i) => i.name === name);
  if (!found) throw new Error(`no input ${name}`);
  return found;
}

/**
 * Every request first asks Flowise's deny list about the URL (a host name may resolve elsewhere by
 * the next request, so the check is per request, as Flowise's own secure requests do).
 */
function guarded(endpoint: Endpoint, what: string): Endpoint {
  const allowed = () => checkAllowed(endpoint.config.baseUrl, what);
  return {
    config: endpoint.config,
    async postJson(path, body, signal) {
      await allowed();
      return endpoint.postJson(path, body, signal);
    },
    async postForm(path, form, signal) {
      await allowed();
      return endpoint.postForm(path, form, signal);
    },
    async *postStream(path, body, signal) {
      await allowed();
      yield* endpoint.postStream(path, body, signal);
    },
  };
}

/** The endpoint for a node: Base URL input or the credential's URL, the credential's key (getCredentialParam order: input first). */
export async function endpointFor(nodeData: INodeData, opts: ICommonObject | undefined, required: boolean): Promise<Endpoint | undefined> {
  const cred = await credentialData(nodeData, opts ?? {});
  const fromInput = str(nodeData.inputs, 'baseUrl');
  const baseUrl = fromInput || str(cred, 'opeaBaseUrl');
  if (!baseUrl) {
    if (required) throw new Error(`${nodeName(nodeData)}: this backend calls a server: set Base URL or connect an OPEA Server credential`);
    return undefined;
  }
  const what = `${nodeName(nodeData)}: ${fromInput ? 'Base URL' : "the OPEA Server credential's Base URL"}`;
  const apiKey = str(nodeData.inputs, 'opeaApiKey') || str(cred, 'opeaApiKey') || undefined;
  const config = { baseUrl, apiKey, timeoutMs: num(nodeData.inputs, 'timeout', ENDPOINT_DEFAULTS.timeoutMs), retries: ENDPOINT_DEFAULTS.retries, backoffMs: ENDPOINT_DEFAULTS.backoffMs, headers: {}, verifyTls: ENDPOINT_DEFAULTS.verifyTls };
  const problem = validateEndpoint(config);
  if (problem) throw new Error(`${what}: ${flowiseWords(problem)}`);
  await checkAllowed(baseUrl, what);
  return guarded(createEndpoint(config), what);
}
