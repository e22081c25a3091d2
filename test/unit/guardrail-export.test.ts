import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { Platform } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, ExportOptions, Target } from '../../exporters';
import { checkComposeProject } from '../../exporters/compose/check';
import { checkGmConnector } from '../../exporters/gmc/check';
import { ENTERPRISE_DIALECT } from '../../exporters/gmc/rules';
import { gmcShape } from '../support/gmc-shape';
import { referenceYaml, REPO_ROOT } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Flow = Record<string, unknown>[];

const TAB = 't0';
const GUARD_MODEL = 'meta-llama/Meta-Llama-Guard-2-8B';
const node = (type: string, props: Record<string, unknown>, to: string[] = []) => ({ z: TAB, type, wires: [to], ...props });
const guard = (id: string, position: string, to: string[], extra: Record<string, unknown> = {}) =>
  node('opea-guardrail', { id, name: id, backend: 'opea', model: GUARD_MODEL, position, ...extra }, to);
const emb = (to: string[]) => node('opea-embedding', { id: 'embed', name: 'embed', backend: 'tei', model: 'BAAI/bge-base-en-v1.5' }, to);
const ret = (to: string[], extra: Record<string, unknown> = {}) => node('opea-retriever', { id: 'retrieve', name: 'retrieve', backend: 'redis', ...extra }, to);
const rerank = (to: string[]) => node('opea-rerank', { id: 'rerank', name: 'rerank', backend: 'tei', model: 'BAAI/bge-reranker-base' }, to);
const llm = (to: string[], extra: Record<string, unknown> = {}) => node('opea-llm', { id: 'llm', name: 'llm', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3', ...extra }, to);

function flowOf(...stages: Json[]): Flow {
  return [{ id: TAB, type: 'tab', label: 'Guarded' }, node('http in', { id: 'in', url: '/q', method: 'post' }, [stages[0].id]), ...stages, node('http response', { id: 'out' })];
}

/** in-guard -> embedding -> retriever -> rerank -> llm -> out-guard: the pipeline of the Enterprise RAG sample. */
function guardedRag(inGuard: Record<string, unknown> = {}, outGuard: Record<string, unknown> = {}, llmExtra: Record<string, unknown> = {}): Flow {
  return flowOf(guard('in-guard', 'input', ['embed'], inGuard), emb(['retrieve']), ret(['rerank']), rerank(['llm']), llm(['out-guard'], llmExtra), guard('out-guard', 'output', ['out'], { backend: 'llamaguard', ...outGuard }));
}

function exportFlow(flow: Flow, targets: Target[], options: Partial<ExportOptions> = {}): { files: Record<string, string>; problems: string[] } {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const files = exportPipeline(pipeline, targets, { platform: 'xeon', ...options }, exportProblems);
  return { files: files ?? {}, problems: exportProblems.items.map(formatProblem) };
}

function exported(flow: Flow, targets: Target[], options: Partial<ExportOptions> = {}): Record<string, string> {
  const { files, problems } = exportFlow(flow, targets, options);
  assert.deepEqual(problems, []);
  return files;
}

const composeOf = (files: Record<string, string>): Json => yaml.load(files['compose/compose.yaml']) as Json;
const crOf = (files: Record<string, string>): Json => yaml.load(files['gmc/guarded.yaml']) as Json;

function routerGraph(compose: Json): Json {
  const command = compose.services['router-service'].command as string[];
  return JSON.parse(command[1].replace(/\$\$/g, '$'));
}

function composeProject(platform: Platform = 'xeon'): { compose: Json; graph: Json; steps: Json[] } {
  const compose = composeOf(exported(guardedRag(), ['compose'], { platform }));
  const graph = routerGraph(compose);
  return { compose, graph, steps: graph.spec.nodes.root.steps };
}

describe('guardrail export', () => {
  describe('compose: the guardrails service and the TGI serving its guard model', () => {
    it('starts both for each rail, wired by env, with health checks and a start order', () => {
      const { compose } = composeProject();
      for (const [rail, model] of [['in-guard', GUARD_MODEL], ['out-guard', GUARD_MODEL]]) {
        const service = compose.services[rail];
        assert.equal(service.image, '${REGISTRY:-opea}/guardrails-tgi:${TAG:-1.1}');
        assert.equal(service.environment.SAFETY_GUARD_ENDPOINT, `http://${rail}-tgi:80`);
        assert.equal(service.environment.SAFETY_GUARD_MODEL_ID, model);
        assert.equal(service.environment.HUGGINGFACEHUB_API_TOKEN, '${HF_TOKEN:-}');
        assert.deepEqual(service.depends_on, { [`${rail}-tgi`]: { condition: 'service_healthy' } });
        assert.match(JSON.stringify(service.healthcheck.test), /localhost:9090\/v1\/health_check/);
        const tgi = compose.services[`${rail}-tgi`];
        assert.equal(tgi.image, 'ghcr.io/huggingface/text-generation-inference:2.4.0-intel-cpu');
        assert.deepEqual(tgi.command, ['--model-id', model, '--cuda-graphs', '0']);
        assert.match(tgi.environment.HF_TOKEN, /^\$\{HF_TOKEN:\?/);
        assert.ok(tgi.healthcheck);
        assert.equal(tgi.ports, undefined);
      }
      for (const [name, service] of Object.entries(compose.services) as [string, Json][]) assert.ok(!String(service.image).endsWith(':latest'), name);
      assert.deepEqual(checkComposeProject(compose), []);
    });

    it('routes the input rail before the embedding and the output rail after the LLM, at their compose services', () => {
      const { compose, steps } = composeProject();
      assert.deepEqual(steps.map((s) => s.name), ['Router', 'Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'Router']);
      const rails = [steps[0], steps[steps.length - 1]];
      assert.equal(rails[0].data, undefined);
      assert.equal(rails[1].data, '$response');
      for (const [rail, step] of [['in-guard', rails[0]], ['out-guard', rails[1]]] as [string, Json][]) {
        assert.equal(step.externalService, `http://${rail}:9090/v1/guardrails`);
        assert.equal(step.serviceUrl, step.externalService);
        const url = new URL(step.serviceUrl);
        assert.ok(JSON.stringify(compose.services[url.hostname].healthcheck.test).includes(`localhost:${url.port}/`));
        assert.deepEqual(compose.services['router-service'].depends_on[rail], { condition: 'service_healthy' });
      }
    });

    it('runs a graph that upstream GMC accepts (CRD, webhook and controller rules)', () => {
      assert.deepEqual(checkGmConnector(composeProject().graph), []);
    });

    it('starts the guardrails even when the node has an externalUrl, which only the GMC export calls', () => {
      const files = exported(guardedRag({ externalUrl: 'http://guard.example.svc:9090/v1/guardrails' }, { externalUrl: 'http://out.example.svc:9090/v1/guardrails' }), ['gmc', 'compose']);
      const cr = crOf(files);
      const graph = routerGraph(composeOf(files));
      assert.deepEqual(gmcShape(graph), gmcShape(cr));
      const crSteps = cr.spec.nodes.root.steps;
      assert.deepEqual(crSteps[0], { name: 'Router', externalService: 'http://guard.example.svc:9090/v1/guardrails' });
      assert.deepEqual(crSteps[crSteps.length - 1], { name: 'Router', data: '$response', externalService: 'http://out.example.svc:9090/v1/guardrails' });
      const stripped = structuredClone(graph);
      for (const step of stripped.spec.nodes.root.steps as Json[]) delete step.serviceUrl;
      stripped.spec.nodes.root.steps[0].externalService = crSteps[0].externalService;
      stripped.spec.nodes.root.steps[crSteps.length - 1].externalService = crSteps[crSteps.length - 1].externalService;
      assert.deepEqual(stripped, cr);
    });

    it('writes byte-identical files for the same flow, in every flavour', () => {
      for (const gmcFlavor of ['upstream', 'enterprise'] as const) {
        const flow = guardedRag({ externalUrl: 'http://guard.example.svc:9090/v1/guardrails' }, { externalUrl: 'http://out.example.svc:9090/v1/guardrails' });
        assert.deepEqual(exported(flow, ['gmc', 'compose', 'ansible'], { gmcFlavor }), exported(structuredClone(flow), ['gmc', 'compose', 'ansible'], { gmcFlavor }));
      }
    });

    it('lists HF_TOKEN as required and the model cache in .env.example', () => {
      const env = exported(guardedRag(), ['compose'])['compose/.env.example'];
      assert.match(env, /TGI serves a model \(required\)\nHF_TOKEN=\n/);
      assert.match(env, /MODEL_CACHE=\.\/data/);
    });

    it('uses the platform model server on Gaudi', () => {
      const { compose } = composeProject('gaudi');
      assert.equal(compose.services['in-guard-tgi'].image, 'ghcr.io/huggingface/tgi-gaudi:2.0.6');
      assert.equal(compose.services['in-guard-tgi'].runtime, 'habana');
    });
  });

  describe('GMC (upstream)', () => {
    it('calls a rail at its externalUrl', () => {
      const cr = crOf(exported(guardedRag({ externalUrl: 'http://guard.example.svc:9090/v1/guardrails' }, { externalUrl: 'http://out.example.svc:9090/v1/guardrails' }), ['gmc']));
      assert.deepEqual(checkGmConnector(cr), []);
      assert.equal(cr.spec.nodes.root.steps[0].externalService, 'http://guard.example.svc:9090/v1/guardrails');
    });

    it('names the node and the fix when a rail has no externalUrl, for GMC and for Ansible (whose bundle applies the CR)', () => {
      for (const target of ['gmc', 'ansible'] as Target[]) {
        const { files, problems } = exportFlow(guardedRag(), [target]);
        assert.deepEqual(files, {});
        assert.deepEqual(problems, [
          `node in-guard (in-guard): [${target}] upstream GMC has no guardrail step, so it needs a URL to call — set externalUrl to a service speaking the OPEA guardrail contract`,
          `node out-guard (out-guard): [${target}] upstream GMC has no guardrail step, so it needs a URL to call — set externalUrl to a service speaking the OPEA guardrail contract`,
        ]);
      }
    });

    it('refuses the rule-based backend, which runs only inside Node-RED', () => {
      const { problems } = exportFlow(guardedRag({ backend: 'local', model: '' }), ['compose']);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^node in-guard \(in-guard\): \[compose\] the rule-based guardrail runs only inside Node-RED, so the compose export cannot deploy/);
    });
  });

  describe('positions', () => {
    it('refuses a rail whose position contradicts its place in the pipeline, and the documents position', () => {
      const late = flowOf(emb(['retrieve']), ret(['llm']), llm(['late']), guard('late', 'input', ['out']));
      assert.deepEqual(exportFlow(late, ['compose']).problems, ['node late (late): [compose] it is an input rail, but an LLM answers before it in the pipeline — wire it before the LLM (an input rail usually comes first), or set position to output']);
      const early = flowOf(guard('early', 'output', ['llm']), llm(['out']));
      assert.deepEqual(exportFlow(early, ['compose']).problems, ['node early (early): [compose] it is an output rail, but no LLM answers before it in the pipeline — wire it after the LLM, or set position to input']);
      const docs = flowOf(emb(['retrieve']), ret(['docs']), guard('docs', 'documents', ['llm']), llm(['out']));
      assert.match(exportFlow(docs, ['gmc']).problems[0], /^node docs \(docs\): \[gmc\] position 'documents' cannot be exported/);
    });
  });

  describe('GMC, Enterprise RAG flavour', () => {
    /** The CR with every serviceName (and every config value naming one) replaced by the position of its step. */
    function normalized(cr: Json): Json {
      const copy = structuredClone(cr.spec);
      for (const nodeSpec of Object.values(copy.nodes) as Json[]) {
        const byService = new Map<string, string>((nodeSpec.steps as Json[]).map((s, i) => [s.internalService.serviceName, `step${i}`]));
        for (const step of nodeSpec.steps as Json[]) {
          step.internalService.serviceName = byService.get(step.internalService.serviceName);
          for (const [key, value] of Object.entries(step.internalService.config ?? {})) {
            if (byService.has(value as string)) step.internalService.config[key] = byService.get(value as string);
          }
        }
      }
      return { apiVersion: cr.apiVersion, kind: cr.kind, labels: Object.keys(cr.metadata.labels).sort(), spec: copy };
    }

    it('exports the pipeline of the Enterprise RAG sample with its steps, fields, config and wiring (cpu-tei-inguard-outguard.yaml)', () => {
      const cr = crOf(exported(guardedRag({}, {}, { backend: 'vllm' }), ['gmc'], { gmcFlavor: 'enterprise' }));
      assert.deepEqual(normalized(cr), normalized(referenceYaml('gmc/enterprise-rag_cpu-tei-inguard-outguard.yaml')));
    });

    it('passes the checks of Enterprise RAG\'s GMC (its CRD, webhook step names, templates, wiring keys), not upstream\'s', () => {
      const cr = crOf(exported(guardedRag(), ['gmc'], { gmcFlavor: 'enterprise' }));
      assert.deepEqual(checkGmConnector(cr, ENTERPRISE_DIALECT), []);
      assert.deepEqual(checkGmConnector(referenceYaml('gmc/enterprise-rag_cpu-tei-inguard-outguard.yaml'), ENTERPRISE_DIALECT), []);
      assert.ok(checkGmConnector(cr).some((e) => /'LLMGuardInput' is not a step name/.test(e)));
    });

    it('puts the input rail right before the LLM, where its LLM Guard scanners read the prompt, and omits a missing rail', () => {
      const flow = flowOf(guard('in-guard', 'input', ['embed']), emb(['retrieve']), ret(['llm']), llm(['out']));
      const steps = crOf(exported(flow, ['gmc'], { gmcFlavor: 'enterprise', platform: 'gaudi' })).spec.nodes.root.steps as Json[];
      assert.deepEqual(steps.map((s) => s.name), ['Fingerprint', 'Embedding', 'TeiEmbeddingGaudi', 'Retriever', 'PromptTemplate', 'LLMGuardInput', 'VLLMGaudi', 'Llm']);
      assert.equal(steps[7].internalService.config.LLM_OUTPUT_GUARD_EXISTS, undefined);
    });

    it('keeps the upstream router graph for compose and ships the enterprise CR in the Ansible bundle', () => {
      const files = exported(guardedRag({ externalUrl: 'http://guard.example.svc:9090/v1/guardrails' }, { externalUrl: 'http://out.example.svc:9090/v1/guardrails' }), ['gmc', 'compose', 'ansible'], { gmcFlavor: 'enterprise' });
      assert.deepEqual(checkGmConnector(routerGraph(composeOf(files))), []);
      assert.equal(files['ansible/roles/gmc_pipeline/files/gmconnector.yaml'], files['gmc/guarded.yaml']);
      assert.match(files['gmc/guarded.yaml'], /name: LLMGuardInput\n/);
    });

    it('refuses what the dialect cannot express, naming each node', () => {
      const flow = flowOf(guard('a', 'input', ['b']), guard('b', 'input', ['embed'], { backend: 'local', model: '' }), emb(['retrieve']), ret(['llm'], { indexName: 'other' }), llm(['out'], { backend: 'ollama', externalUrl: 'http://ollama:11434' }));
      const { problems } = exportFlow(flow, ['gmc'], { gmcFlavor: 'enterprise', platform: 'nvidia' });
      assert.deepEqual(problems, [
        "flow (nvidia): [gmc] Enterprise RAG's GMC deploys on Xeon and Gaudi only — pass --platform xeon or gaudi, or export with --gmc-flavor upstream",
        "node b (b): [gmc] backend 'local' cannot be exported to Enterprise RAG: it runs only inside Node-RED — choose backend opea, llamaguard, or export with --gmc-flavor upstream",
        "node retrieve (retrieve): [gmc] Enterprise RAG's retriever step takes no index name, so index 'other' cannot be exported — use the default index (rag-redis), or export with --gmc-flavor upstream",
        "node llm (llm): [gmc] backend 'ollama' cannot be exported to Enterprise RAG: Enterprise RAG does not deploy it — choose backend tgi, opea, vllm, or export with --gmc-flavor upstream",
      ]);
      const noLlm = exportFlow(flowOf(guard('a', 'input', ['embed']), emb(['out'])), ['gmc'], { gmcFlavor: 'enterprise' }).problems;
      assert.deepEqual(noLlm, ["node a (a): [gmc] Enterprise RAG's guardrail steps scan the LLM's prompt and answer, and the pipeline has no LLM — add an opea-llm node, or export with --gmc-flavor upstream"]);
      const twoRails = exportFlow(flowOf(guard('a', 'input', ['b']), guard('b', 'input', ['llm']), llm(['out'])), ['gmc'], { gmcFlavor: 'enterprise' }).problems;
      assert.deepEqual(twoRails, ["node b (b): [gmc] Enterprise RAG's pipeline has one input guardrail step, and a (a) is one already — keep one rail per position"]);
    });

    it('refuses routing and dataprep, which its pipelines do not hold', () => {
      const join = node('join', { id: 'j', mode: 'custom', count: '2', build: 'object' }, ['out']);
      const fanOut = [{ id: TAB, type: 'tab', label: 'Guarded' }, node('http in', { id: 'in', url: '/q', method: 'post' }, ['embed', 'llm']), emb(['j']), llm(['j']), join, node('http response', { id: 'out' })];
      assert.match(exportFlow(fanOut, ['gmc'], { gmcFlavor: 'enterprise' }).problems[0], /^node j \(.*\): \[gmc\] the Enterprise RAG export writes one Sequence/);
      const ingest = node('opea-dataprep', { id: 'ingest', name: 'ingest', backend: 'redis' }, []);
      const withDataprep = [...flowOf(emb(['retrieve']), ret(['llm']), llm(['out'])), ingest];
      assert.deepEqual(exportFlow(withDataprep, ['gmc'], { gmcFlavor: 'enterprise' }).problems, [
        'node ingest (ingest): [gmc] Enterprise RAG ingests documents with its own ingestion pipeline, not a step of the chat pipeline — disable this node for the export, or export with --gmc-flavor upstream',
      ]);
    });
  });

  describe('opea-flow --gmc-flavor', () => {
    const CLI = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardrail-export-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('exports and validates the enterprise dialect, and refuses an unknown flavour with exit 2', () => {
      const file = path.join(dir, 'flow.json');
      fs.writeFileSync(file, JSON.stringify(guardedRag()));
      const exportRun = run(['export', file, '--target', 'gmc', '--gmc-flavor', 'enterprise', '--out', path.join(dir, 'out')]);
      assert.equal(exportRun.status, 0, exportRun.stderr);
      assert.match(fs.readFileSync(path.join(dir, 'out', 'gmc', 'guarded.yaml'), 'utf8'), /name: LLMGuardOutput\n/);
      assert.equal(run(['validate', file, '--target', 'gmc', '--gmc-flavor', 'enterprise']).status, 0);
      const upstream = run(['validate', file, '--target', 'gmc']);
      assert.equal(upstream.status, 2);
      assert.match(upstream.stderr, /^node in-guard \(in-guard\): \[gmc\] upstream GMC has no guardrail step/);
      const bad = run(['validate', file, '--gmc-flavor', 'kserve']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^opea-flow: unknown GMC flavour 'kserve': choose upstream, enterprise/);
    });
  });
});
