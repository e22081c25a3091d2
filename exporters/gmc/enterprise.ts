/**
 * The routing of a GMConnector in Enterprise RAG's dialect (opea-project/Enterprise-RAG, its fork of
 * GMC), laid out as its sample pipelines are (deployment/pipelines/chatqa/examples, e.g.
 * cpu-tei-inguard-outguard.yaml): one Sequence, every step a hard dependency, a Fingerprint step
 * first, a PromptTemplate step building the LLM's prompt, vLLM serving the LLM, and its LLM Guard
 * scanners around the LLM: LLMGuardInput scans the prompt right before it, LLMGuardOutput the answer.
 */
import { findBackend } from '../../core/catalog';
import { Component, Platform } from '../../core/model';
import { DEFAULT_INDEX_NAME } from '../../core/node-types';
import { Plan } from '../../core/plan';
import { oneLine, ProblemList } from '../../core/problems';

type Step = Record<string, unknown>;

/** serviceNames of the steps no node of the flow stands for, as the sample names them. */
export const ENTERPRISE_FIXED_SERVICES = { fingerprint: 'fgp-svc', promptTemplate: 'prompt-template-svc' } as const;

const STEP = {
  teiEmbedding: { xeon: 'TeiEmbedding', gaudi: 'TeiEmbeddingGaudi' },
  teiReranking: { xeon: 'TeiReranking', gaudi: 'TeiRerankingGaudi' },
  vllm: { xeon: 'VLLM', gaudi: 'VLLMGaudi' },
} as const;

/** Backends whose stage Enterprise RAG deploys (it serves LLMs with vLLM only, so any of these becomes one). */
const DEPLOYABLE: Partial<Record<Component['kind'], string[]>> = {
  embedding: ['tei', 'opea'],
  retriever: ['redis'],
  rerank: ['tei', 'opea'],
  llm: ['tgi', 'opea', 'vllm'],
  guardrail: ['opea', 'llamaguard'],
};

function executed(name: string, serviceName: string, config: Record<string, string>): Step {
  return { name, data: '$response', dependency: 'Hard', internalService: { serviceName, config } };
}

function downstream(name: string, serviceName: string, config?: Record<string, string>): Step {
  return { name, dependency: 'Hard', internalService: { serviceName, ...(config ? { config } : {}), isDownstreamService: true } };
}

class EnterpriseBuilder {
  readonly steps: Step[] = [];
  private inputRail?: Component;
  private outputRail?: Component;
  private llm?: Component;

  constructor(
    private readonly names: Map<string, string>,
    private readonly platform: 'xeon' | 'gaudi',
    private readonly problems: ProblemList,
  ) {}

  build(components: Component[]): void {
    this.steps.push({ name: 'Fingerprint', dependency: 'Hard', internalService: { serviceName: ENTERPRISE_FIXED_SERVICES.fingerprint, config: { endpoint: '/v1/system_fingerprint/append_arguments' } } });
    for (const c of components.filter((c) => c.kind === 'guardrail')) this.takeRail(c);
    const llms = components.filter((c) => c.kind === 'llm');
    llms.slice(1).forEach((c) => this.problems.add(c.id, c.label, "Enterprise RAG's pipeline has one LLM step", 'keep one opea-llm node, or export with --gmc-flavor upstream'));
    this.llm = llms[0];
    for (const c of components) {
      const base = this.names.get(c.id);
      if (!base || c.kind === 'guardrail' || !this.deployable(c)) continue;
      if (c.kind === 'embedding') this.embedding(c, base);
      else if (c.kind === 'retriever') this.retriever(c, base);
      else if (c.kind === 'rerank') this.rerank(base);
      else if (c.kind === 'llm' && c === this.llm) this.llmSteps(base);
    }
  }

  private deployable(c: Component): boolean {
    const backends = DEPLOYABLE[c.kind] ?? [];
    if (backends.includes(c.backend)) return true;
    const why = findBackend(c.kind, c.backend)?.deploy.type === 'embedded' ? 'it runs only inside Node-RED' : 'Enterprise RAG does not deploy it';
    this.problems.add(c.id, c.label, `backend '${c.backend}' cannot be exported to Enterprise RAG: ${why}`, backends.length ? `choose backend ${backends.join(', ')}, or export with --gmc-flavor upstream` : 'export with --gmc-flavor upstream');
    return false;
  }

  private takeRail(c: Component): void {
    if (!this.deployable(c)) return;
    const position = String(c.params.position ?? 'input');
    const slot = position === 'output' ? 'outputRail' : 'inputRail';
    const taken = this[slot];
    if (taken) {
      this.problems.add(c.id, c.label, `Enterprise RAG's pipeline has one ${position} guardrail step, and ${oneLine(taken.label, 40)} (${taken.id}) is one already`, 'keep one rail per position');
      return;
    }
    this[slot] = c;
  }

  private embedding(c: Component, base: string): void {
    const server = `${base}-tei`;
    this.steps.push(
      executed('Embedding', base, {
        endpoint: '/v1/embeddings',
        EMBEDDING_MODEL_SERVER_ENDPOINT: server,
        EMBEDDING_MODEL_NAME: c.model ?? '',
        EMBEDDING_MODEL_SERVER: 'tei',
        EMBEDDING_CONNECTOR: 'langchain',
      }),
      downstream(STEP.teiEmbedding[this.platform], server),
    );
  }

  private retriever(c: Component, base: string): void {
    const index = c.params.indexName;
    if (typeof index === 'string' && index !== DEFAULT_INDEX_NAME) {
      this.problems.add(c.id, c.label, `Enterprise RAG's retriever step takes no index name, so index '${oneLine(index, 40)}' cannot be exported`, `use the default index (${DEFAULT_INDEX_NAME}), or export with --gmc-flavor upstream`);
      return;
    }
    this.steps.push(executed('Retriever', base, { endpoint: '/v1/retrieval' }));
  }

  private rerank(base: string): void {
    const server = `${base}-tei`;
    this.steps.push(
      executed('Reranking', base, { endpoint: '/v1/reranking', RERANKING_SERVICE_ENDPOINT: server, RERANKING_MODEL_SERVER: 'tei' }),
      downstream(STEP.teiReranking[this.platform], server, { endpoint: '/rerank' }),
    );
  }

  private llmSteps(base: string): void {
    const server = `${base}-vllm`;
    this.steps.push(executed('PromptTemplate', ENTERPRISE_FIXED_SERVICES.promptTemplate, { endpoint: '/v1/prompt_template' }));
    const inputBase = this.inputRail && this.names.get(this.inputRail.id);
    if (inputBase) this.steps.push(executed('LLMGuardInput', inputBase, { endpoint: '/v1/llmguardinput' }));
    const outputBase = this.outputRail && this.names.get(this.outputRail.id);
    this.steps.push(
      downstream(STEP.vllm[this.platform], server, { endpoint: '/v1/completions' }),
      executed('Llm', base, {
        endpoint: '/v1/chat/completions',
        LLM_MODEL_SERVER: 'vllm',
        LLM_MODEL_SERVER_ENDPOINT: server,
        ...(outputBase ? { LLM_OUTPUT_GUARD_EXISTS: 'True' } : {}),
      }),
    );
    if (outputBase) this.steps.push(executed('LLMGuardOutput', outputBase, { endpoint: '/v1/llmguardoutput' }));
  }

  railsWithoutLlm(): Component[] {
    return this.llm ? [] : [this.inputRail, this.outputRail].filter((c): c is Component => c !== undefined);
  }
}

/** The router nodes of the Enterprise RAG GMConnector, or null (with problems added) when the flow has what it cannot express. */
export function enterpriseNodes(plan: Plan, names: Map<string, string>, platform: Platform, problems: ProblemList): Record<string, { routerType: 'Sequence'; steps: Step[] }> | null {
  const before = problems.items.length;
  if (platform === 'nvidia') problems.add('', platform, "Enterprise RAG's GMC deploys on Xeon and Gaudi only", 'pass --platform xeon or gaudi, or export with --gmc-flavor upstream');
  for (const reserved of Object.values(ENTERPRISE_FIXED_SERVICES)) {
    if ([...names.values()].includes(reserved)) problems.add('', reserved, `'${reserved}' is the service name of a step Enterprise RAG's pipeline always has`, 'rename the node');
  }
  for (const stage of plan.stages) {
    if (stage.type === 'switch') problems.add(stage.route.id, stage.route.label, "the Enterprise RAG export writes one Sequence, and its samples route no Switch", 'remove the switch, or export with --gmc-flavor upstream');
    if (stage.type === 'ensemble') problems.add(stage.join.id, stage.join.label, "the Enterprise RAG export writes one Sequence, and its samples route no Ensemble", 'remove the fan-out, or export with --gmc-flavor upstream');
  }
  for (const side of plan.sideComponents) {
    problems.add(side.id, side.label, "Enterprise RAG ingests documents with its own ingestion pipeline, not a step of the chat pipeline", 'disable this node for the export, or export with --gmc-flavor upstream');
  }
  const components = plan.stages.flatMap((s) => (s.type === 'component' ? [s.component] : []));
  const builder = new EnterpriseBuilder(names, platform === 'gaudi' ? 'gaudi' : 'xeon', problems);
  builder.build(components);
  for (const rail of builder.railsWithoutLlm()) {
    problems.add(rail.id, rail.label, "Enterprise RAG's guardrail steps scan the LLM's prompt and answer, and the pipeline has no LLM", 'add an opea-llm node, or export with --gmc-flavor upstream');
  }
  return problems.items.length > before ? null : { root: { routerType: 'Sequence', steps: builder.steps } };
}
