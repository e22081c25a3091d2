/**
 * What a node's span and metrics say about one message: attribute names from OpenTelemetry's GenAI
 * semantic conventions where they name one (as in @opentelemetry/semantic-conventions 1.45.0; a unit
 * test holds these strings to that package), `opea.*` where they do not.
 */
import { ContractError } from '../contract/documents';
import { ServiceError } from '../clients/endpoint';

export const ATTR = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** Deprecated by gen_ai.provider.name, still what many back ends group by: both are set. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  finishReasons: 'gen_ai.response.finish_reasons',
  embeddingDimensions: 'gen_ai.embeddings.dimension.count',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  urlFull: 'url.full',
  errorType: 'error.type',
  nodeId: 'opea.node.id',
  nodeLabel: 'opea.node.label',
  nodeType: 'opea.node.type',
  documents: 'opea.documents.count',
  guardrailVerdict: 'opea.guardrail.verdict',
  guardrailPolicies: 'opea.guardrail.policies',
} as const;

/** gen_ai.operation.name of the node kinds the conventions have an operation for. */
const OPERATIONS: Record<string, string> = { embedding: 'embeddings', retriever: 'retrieval', llm: 'chat' };

export type AttributeValue = string | number | boolean | string[];
export type Attributes = Record<string, AttributeValue>;

export interface NodeIdentity {
  id: string;
  type: string;
  label: string;
  /** The node's kind, the key of msg.metrics it writes (llm, embedding, …). */
  kind: string;
  backend?: string;
  model?: string;
}

export function operationOf(kind: string): string | undefined {
  return OPERATIONS[kind];
}

/** The span's name: GenAI's "{operation} {model}" where there is an operation, else the kind and the node's label. */
export function spanName(node: NodeIdentity): string {
  const operation = operationOf(node.kind);
  if (operation) return node.model ? `${operation} ${node.model}` : operation;
  return `${node.kind} ${node.label}`;
}

export function startAttributes(node: NodeIdentity): Attributes {
  const attributes: Attributes = { [ATTR.nodeId]: node.id, [ATTR.nodeLabel]: node.label, [ATTR.nodeType]: node.type };
  const operation = operationOf(node.kind);
  if (operation) attributes[ATTR.operationName] = operation;
  if (node.backend) {
    attributes[ATTR.providerName] = node.backend;
    attributes[ATTR.system] = node.backend;
  }
  if (node.model) attributes[ATTR.requestModel] = node.model;
  return attributes;
}

export function serverAttributes(url: string): Attributes {
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return { [ATTR.serverAddress]: parsed.hostname, [ATTR.serverPort]: port, [ATTR.urlFull]: `${parsed.origin}${parsed.pathname}` };
  } catch {
    return {};
  }
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A guardrail's verdict and the checks that found something, from the report the node put on msg.guardrail. */
export function guardrailOutcome(report: unknown): { verdict: string; policies: string[] } | undefined {
  if (!report || typeof report !== 'object') return undefined;
  const { verdict, findings } = report as { verdict?: unknown; findings?: unknown };
  if (typeof verdict !== 'string') return undefined;
  const checks = Array.isArray(findings) ? findings.map((f) => (f as { check?: unknown }).check).filter((c): c is string => typeof c === 'string') : [];
  return { verdict, policies: [...new Set(checks)].sort() };
}

/** What the node's result adds: tokens, TTFT, documents, a guardrail's verdict. `metrics` is what the node put in msg.metrics[kind]. */
export function resultAttributes(kind: string, metrics: Record<string, unknown> | undefined, guardrail?: unknown): Attributes {
  const attributes: Attributes = {};
  const m = metrics ?? {};
  if (kind === 'llm') {
    if (finite(m.promptTokens)) attributes[ATTR.inputTokens] = m.promptTokens;
    if (finite(m.completionTokens)) attributes[ATTR.outputTokens] = m.completionTokens;
    if (finite(m.ttftMs)) attributes[ATTR.timeToFirstChunk] = m.ttftMs / 1000;
    if (typeof m.finishReason === 'string') attributes[ATTR.finishReasons] = [m.finishReason];
  }
  if (kind === 'embedding' && finite(m.dimensions)) attributes[ATTR.embeddingDimensions] = m.dimensions;
  if (finite(m.documents)) attributes[ATTR.documents] = m.documents;
  if (kind === 'guardrail') {
    const outcome = guardrailOutcome(guardrail);
    if (outcome) {
      attributes[ATTR.guardrailVerdict] = outcome.verdict;
      attributes[ATTR.guardrailPolicies] = outcome.policies;
    }
  }
  return attributes;
}

/**
 * The kind of a node's failure, a short fixed word for error.type and the errors metric's label:
 * timeout, http_4xx, http_5xx, connection, cancelled, bad_answer (a server's answer we could not
 * use), invalid_input (the message or the settings), other.
 */
export function errorKind(err: unknown): string {
  if (err instanceof ServiceError) {
    if (err.status !== undefined) return err.status >= 500 ? 'http_5xx' : 'http_4xx';
    if (/\(the timeout\)|\(the stream limit\)/.test(err.reason)) return 'timeout';
    if (err.reason === 'cancelled') return 'cancelled';
    if (/^(connection refused|host not found|TLS failed|request failed|the stream broke off)/.test(err.reason)) return 'connection';
    return 'bad_answer';
  }
  if (err instanceof ContractError) return 'invalid_input';
  return 'other';
}
