/** What every OPEA Flowise node shares: the server credential, the endpoint, reading inputs. */
import { createEndpoint, Endpoint, ENDPOINT_DEFAULTS, validateEndpoint } from '../core/clients/endpoint';
import { hostModule } from './host';
import { ICommonObject, INodeData, INodeOptionsValue, INodeParams } from './interface';

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

/** The endpoint for a node: Base URL input or the credential's URL, the credential's key (getCredentialParam order: input first). */
export async function endpointFor(nodeData: INodeData, opts: ICommonObject | undefined, required: boolean): Promise<Endpoint | undefined> {
  const cred = await credentialData(nodeData, opts ?? {});
  const baseUrl = str(nodeData.inputs, 'baseUrl') || str(cred, 'opeaBaseUrl');
  if (!baseUrl) {
    if (required) throw new Error(`${nodeData.label ?? nodeData.name}: this backend calls a server: set Base URL or connect an OPEA Server credential`);
    return undefined;
  }
  const apiKey = str(nodeData.inputs, 'opeaApiKey') || str(cred, 'opeaApiKey') || undefined;
  const config = { baseUrl, apiKey, timeoutMs: num(nodeData.inputs, 'timeout', ENDPOINT_DEFAULTS.timeoutMs), retries: ENDPOINT_DEFAULTS.retries, backoffMs: ENDPOINT_DEFAULTS.backoffMs, headers: {}, verifyTls: ENDPOINT_DEFAULTS.verifyTls };
  const problem = validateEndpoint(config);
  if (problem) throw new Error(`${nodeData.label ?? nodeData.name}: ${problem}`);
  return createEndpoint(config);
}
