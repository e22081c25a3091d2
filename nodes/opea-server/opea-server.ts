/** opea-server: a model or OPEA service endpoint shared by service nodes; the API key is a credential. */
import { createEndpoint, Endpoint, ENDPOINT_DEFAULTS, EndpointConfig, validateEndpoint } from '../../core/clients/endpoint';
import { guardJsonEntries } from '../shared/flow-entry';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { startTelemetry } from '../shared/telemetry';

const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const MIB = 1024 * 1024;

function numberOr(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

/** Extra headers from the editor's JSON text; throws with what is wrong. */
function parseHeaders(text: unknown): Record<string, string> {
  if (text === undefined || text === null || text === '') return {};
  let value: unknown = text;
  if (typeof text === 'string') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error('extra headers are not JSON: write them as {"Name": "value"}');
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new Error('extra headers must be a JSON object of strings: {"Name": "value"}');
  }
  return value as Record<string, string>;
}

module.exports = function register(RED: Red): void {
  // Every runtime that loads the pack loads opea-server: telemetry is set up once here for all its nodes.
  startTelemetry(RED);
  // ... and the JSON guard of the http in nodes that lead to opea- nodes (nodes/shared/flow-entry.ts).
  guardJsonEntries(RED);
  function OpeaServer(this: RedNode & { endpoint(): Endpoint }, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    let cached: Endpoint | undefined;
    let problem: string | null = null;
    try {
      let apiKey = this.credentials?.apiKey || undefined;
      const ref = apiKey ? ENV_REFERENCE.exec(apiKey) : null;
      if (ref) {
        const value = RED.util.getSetting(this, ref[1]) ?? process.env[ref[1]];
        if (typeof value !== 'string' || value === '') throw new Error(`the API key refers to environment variable ${ref[1]}, which is not set`);
        apiKey = value;
      }
      const endpointConfig: EndpointConfig = {
        baseUrl: typeof config.baseUrl === 'string' ? config.baseUrl.trim() : '',
        apiKey,
        timeoutMs: numberOr(config.timeout, ENDPOINT_DEFAULTS.timeoutMs / 1000) * 1000,
        retries: numberOr(config.retries, ENDPOINT_DEFAULTS.retries),
        backoffMs: numberOr(config.backoff, ENDPOINT_DEFAULTS.backoffMs),
        headers: parseHeaders(config.headers),
        verifyTls: config.verifyTls !== false && config.verifyTls !== 'false',
        streamTimeoutMs: numberOr(config.streamTimeout, ENDPOINT_DEFAULTS.streamTimeoutMs / 1000) * 1000,
        maxResponseBytes: numberOr(config.maxResponse, ENDPOINT_DEFAULTS.maxResponseBytes / MIB) * MIB,
      };
      problem = validateEndpoint(endpointConfig);
      if (!problem) cached = createEndpoint(endpointConfig);
    } catch (err) {
      problem = (err as Error).message;
    }
    const label = `${config.name || config.baseUrl || 'opea-server'} (${config.id})`;
    this.endpoint = () => {
      if (!cached) throw new Error(`server ${label}: ${problem} — open the opea-server config node and fix it`);
      return cached;
    };
  }
  RED.nodes.registerType('opea-server', OpeaServer, { credentials: { apiKey: { type: 'password' } } });
};
