/**
 * Prometheus metrics of the pipeline nodes (prom-client, its own registry): requests and latency per
 * node, TTFT and tokens per LLM node, guardrail verdicts by policy, errors by kind, the embedded vector
 * stores' sizes, and the process's own figures (CPU, memory, event loop). Created only when metrics
 * are switched on.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { guardrailOutcome, NodeIdentity } from './attributes';

export interface StoreSize {
  store: string;
  index: string;
  documents: number;
}

export interface NodeOutcome {
  seconds: number;
  /** ok, blocked (a rail sent it to its second output) or error. */
  outcome: 'ok' | 'blocked' | 'error';
  errorKind?: string;
  /** What the node put in msg.metrics[kind]. */
  metrics?: Record<string, unknown>;
  /** msg.guardrail, for a guardrail node. */
  guardrail?: unknown;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const NODE_LABELS = ['type', 'node', 'name'] as const;

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export class PipelineMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly errors: Counter<string>;
  private readonly ttft: Histogram<string>;
  private readonly tokens: Counter<string>;
  private readonly verdicts: Counter<string>;
  private storeSizes: () => StoreSize[] = () => [];

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prom = require('prom-client') as typeof import('prom-client');
    this.registry = new prom.Registry();
    const registers = [this.registry];
    prom.collectDefaultMetrics({ register: this.registry });
    this.requests = new prom.Counter({ name: 'opea_node_requests_total', help: 'Messages an OPEA node finished, by outcome (ok, blocked, error)', labelNames: [...NODE_LABELS, 'outcome'], registers });
    this.duration = new prom.Histogram({ name: 'opea_node_duration_seconds', help: 'Time an OPEA node took for one message', labelNames: [...NODE_LABELS], buckets: LATENCY_BUCKETS, registers });
    this.errors = new prom.Counter({ name: 'opea_node_errors_total', help: 'Messages an OPEA node failed, by kind (timeout, http_4xx, http_5xx, connection, cancelled, bad_answer, invalid_input, invalid_settings, other)', labelNames: [...NODE_LABELS, 'kind'], registers });
    this.ttft = new prom.Histogram({ name: 'opea_llm_time_to_first_token_seconds', help: 'Time to the first streamed token of an LLM node', labelNames: ['node', 'name', 'model'], buckets: LATENCY_BUCKETS, registers });
    this.tokens = new prom.Counter({ name: 'opea_llm_tokens_total', help: 'Tokens of an LLM node: input (prompt) and output (completion)', labelNames: ['node', 'name', 'model', 'direction'], registers });
    this.verdicts = new prom.Counter({ name: 'opea_guardrail_verdicts_total', help: "A guardrail node's verdicts (pass, redacted, blocked) by policy: each check that found something, or none", labelNames: ['node', 'name', 'policy', 'verdict'], registers });
    const sizes = () => this.storeSizes();
    new prom.Gauge({
      name: 'opea_vectorstore_documents',
      help: 'Documents in each loaded index of an embedded vector store (opea-vectorstore)',
      labelNames: ['store', 'index'],
      registers,
      collect(this: Gauge<string>) {
        this.reset();
        for (const s of sizes()) this.set({ store: s.store, index: s.index }, s.documents);
      },
    });
  }

  /** Where the vector store sizes come from, read at each scrape. */
  watchStores(sizes: () => StoreSize[]): void {
    this.storeSizes = sizes;
  }

  record(node: NodeIdentity, result: NodeOutcome): void {
    const labels = { type: node.type, node: node.id, name: node.label };
    this.requests.inc({ ...labels, outcome: result.outcome });
    this.duration.observe(labels, result.seconds);
    if (result.outcome === 'error') this.errors.inc({ ...labels, kind: result.errorKind ?? 'other' });
    const m = result.metrics ?? {};
    if (node.kind === 'llm' && result.outcome !== 'error') {
      const llm = { node: node.id, name: node.label, model: node.model ?? '' };
      if (finite(m.ttftMs)) this.ttft.observe(llm, m.ttftMs / 1000);
      if (finite(m.promptTokens)) this.tokens.inc({ ...llm, direction: 'input' }, m.promptTokens);
      if (finite(m.completionTokens)) this.tokens.inc({ ...llm, direction: 'output' }, m.completionTokens);
    }
    if (node.kind === 'guardrail' && result.outcome !== 'error') {
      const verdict = guardrailOutcome(result.guardrail);
      if (verdict) {
        const policies = verdict.policies.length > 0 ? verdict.policies : ['none'];
        for (const policy of policies) this.verdicts.inc({ node: node.id, name: node.label, policy, verdict: verdict.verdict });
      }
    }
  }

  /** The exposition text and its content type, for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
