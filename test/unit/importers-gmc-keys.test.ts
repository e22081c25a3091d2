/**
 * The GMC importer keeps what it reads: the config keys of every GMC dialect (0.6 to 1.4, Enterprise
 * RAG) come back on export as models, index names and model-server wiring, and every key the flow
 * cannot hold is a warning on the node it belongs to.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { Platform } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, formatWarning, Problem, ProblemList } from '../../core/problems';
import { exportPipeline, GmcFlavor } from '../../exporters';
import { REFERENCE_DIR, REPO_ROOT } from '../support/reference';

type Node = Record<string, unknown>;
interface Step {
  name: string;
  internalService?: { serviceName?: string; isDownstreamService?: boolean; config?: Record<string, string> };
}

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'importers');
const fixture = (file: string) => fs.readFileSync(path.join(FIXTURES, file), 'utf8');
const reference = (file: string) => fs.readFileSync(path.join(REFERENCE_DIR, 'gmc', file), 'utf8');

function imported(text: string): { flow: Node[]; warnings: Problem[] } {
  const { flow, format, problems } = toNodeRedFlow(text, 'cr.yaml');
  assert.deepEqual(problems.items.map(formatProblem), []);
  assert.equal(format, 'gmc');
  return { flow: flow as Node[], warnings: problems.warnings };
}

function exported(flow: Node[], platform: Platform, gmcFlavor: GmcFlavor = 'upstream'): string {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, ['gmc'], { platform, name: 'rt', namespace: 'rt', gmcFlavor }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  return (bundle as Record<string, string>)['gmc/rt.yaml'];
}

/** Keys of an exported CR naming a model server (upstream and Enterprise RAG). */
const SERVER_KEYS = ['TEI_EMBEDDING_ENDPOINT', 'TEI_RERANKING_ENDPOINT', 'TGI_LLM_ENDPOINT', 'EMBEDDING_MODEL_SERVER_ENDPOINT', 'RERANKING_SERVICE_ENDPOINT', 'LLM_MODEL_SERVER_ENDPOINT'];
const WIRING_KEYS = [...SERVER_KEYS, 'REDIS_URL', 'TEI_ENDPOINT'];
/** Steps with an index, whose model server keys are wiring only. */
const INDEXED = ['Retriever', 'DataPrep'];

/**
 * What an exported CR deploys per stage, by serviceName: the model its server runs (MODEL_ID of the
 * server a key names, or Enterprise RAG's EMBEDDING_MODEL_NAME) and the index (absent: rag-redis).
 * Every wiring key must name a downstream step of the same router node.
 */
function deployed(text: string): Record<string, string> {
  const cr = yaml.load(text) as { spec: { nodes: Record<string, { steps: Step[] }> } };
  const out: Record<string, string> = {};
  for (const node of Object.values(cr.spec.nodes)) {
    for (const step of node.steps) {
      const service = step.internalService;
      if (!service || (service.isDownstreamService && step.name !== 'DataPrep')) continue;
      const config = service.config ?? {};
      const facts: string[] = [];
      for (const key of WIRING_KEYS.filter((k) => config[k] !== undefined)) {
        const server = node.steps.find((s) => s.internalService?.isDownstreamService && s.internalService.serviceName === config[key]);
        assert.ok(server, `${service.serviceName}: ${key} names ${config[key]}, which is no downstream step of its node`);
        if (SERVER_KEYS.includes(key) && !INDEXED.includes(step.name)) facts.push(`model ${server.internalService?.config?.MODEL_ID ?? '(none)'}`);
      }
      if (config.EMBEDDING_MODEL_NAME) facts.push(`model ${config.EMBEDDING_MODEL_NAME}`);
      if (INDEXED.includes(step.name)) facts.push(`index ${config.INDEX_NAME ?? 'rag-redis'}`);
      if (facts.length > 0) out[service.serviceName as string] = facts.join(', ');
    }
  }
  return out;
}

/** A warning as `<label> <key or subject>`: the config key it is about, else what it is about. */
function subject(w: Problem): string {
  const key = /config key (\S+)/.exec(w.message)?.[1] ?? (/names no model/.test(w.message) ? 'no model' : /^the UI step/.test(w.message) ? 'UI step' : w.message);
  return `${w.label} ${key}`;
}

interface Case {
  file: string;
  text: () => string;
  platform: Platform;
  flavor?: GmcFlavor;
  deploys: Record<string, string>;
  warnings: string[];
  /** Warnings on importing the export again (default none): what the export cannot say either. */
  again?: string[];
}

const CHATQNA_1_1 = {
  'embedding-svc': 'model BAAI/bge-base-en-v1.5',
  'retriever-svc': 'index rag-redis',
  'reranking-svc': 'model BAAI/bge-reranker-base',
  'llm-svc': 'model Intel/neural-chat-7b-v3-3',
};

const CASES: Case[] = [
  {
    file: 'gmc-0.6-rfc.yaml (the deployment RFC)',
    text: () => fixture('gmc-0.6-rfc.yaml'),
    platform: 'xeon',
    deploys: {
      'embedding-service': 'model BAAI/bge-base-en-v1.5',
      'retriever-redis-server': 'index rag-redis',
      'reranking-service': 'model BAAI/bge-reranker-large',
      'llm-service': 'model Intel/neural-chat-7b-v3-3',
    },
    warnings: [
      'reranking-service gmcTokenSecret',
      'llm-service gmcTokenSecret',
      'embedding-service hostPath',
      'embedding-service gmcTokenSecret',
      'reranking-service hostPath',
      'reranking-service gmcTokenSecret',
      'llm-service hostPath',
      'llm-service gmcTokenSecret',
    ],
  },
  {
    file: 'gmc-0.6-urls.yaml (0.6 sample: URLs, proxies)',
    text: () => fixture('gmc-0.6-urls.yaml'),
    platform: 'xeon',
    deploys: {
      'embedding-service': 'model BAAI/bge-large-en-v1.5',
      'retriever-redis-server': 'index handbook',
      'reranking-service': 'model BAAI/bge-reranker-large',
      'llm-service': 'model Intel/neural-chat-7b-v3-3',
    },
    warnings: ['routerConfig no_proxy', 'routerConfig http_proxy', 'embedding-service no_proxy', 'embedding-service gmcTokenSecret'],
  },
  {
    file: 'gmc-0.7-chatqna.yaml (servers found by step name)',
    text: () => fixture('gmc-0.7-chatqna.yaml'),
    platform: 'xeon',
    deploys: { ...CHATQNA_1_1, 'reranking-svc': 'model BAAI/bge-reranker-large' },
    warnings: [],
  },
  {
    file: 'gmc-0.7-codegen.yaml (LLM_MODEL_ID)',
    text: () => fixture('gmc-0.7-codegen.yaml'),
    platform: 'xeon',
    deploys: { 'llm-service': 'model ise-uiuc/Magicoder-S-DS-6.7B' },
    warnings: [],
  },
  {
    file: 'gmc-0.8-translation.yaml (0.8 to 1.4)',
    text: () => fixture('gmc-0.8-translation.yaml'),
    platform: 'xeon',
    deploys: { 'llm-service': 'model haoranxu/ALMA-13B' },
    warnings: [],
  },
  {
    file: 'gmc-1.0-switch-nv-onecard.yaml (1.0 to 1.4)',
    text: () => fixture('gmc-1.0-switch-nv-onecard.yaml'),
    platform: 'nvidia',
    deploys: { 'llm-svc-intel': 'model Intel/neural-chat-7b-v3-3', 'llm-svc-llama': 'model bigscience/bloom-560m' },
    warnings: ['llm-svc-intel CUDA_MEMORY_FRACTION', 'llm-svc-llama CUDA_MEMORY_FRACTION'],
  },
  {
    file: 'chatQnA_xeon.yaml (1.1)',
    text: () => reference('chatQnA_xeon.yaml'),
    platform: 'xeon',
    deploys: CHATQNA_1_1,
    warnings: [],
  },
  {
    file: 'chatQnA_switch_xeon.yaml (1.1)',
    text: () => reference('chatQnA_switch_xeon.yaml'),
    platform: 'xeon',
    deploys: {
      'embedding-svc-large': 'model BAAI/bge-base-en-v1.5',
      'embedding-svc-small': 'model BAAI/bge-base-en-v1.5',
      'retriever-svc-large': 'index rag-redis',
      'retriever-svc-small': 'index rag-redis',
      'reranking-svc': 'model BAAI/bge-reranker-base',
      'llm-svc-intel': 'model Intel/neural-chat-7b-v3-3',
      'llm-svc-llama': 'model openlm-research/open_llama_3b',
    },
    warnings: [],
  },
  {
    file: 'chatQnA_dataprep_xeon_with_ui.yaml (1.1)',
    text: () => reference('chatQnA_dataprep_xeon_with_ui.yaml'),
    platform: 'xeon',
    deploys: { ...CHATQNA_1_1, 'data-prep-svc': 'index rag-redis' },
    warnings: ['UI UI step'],
  },
  {
    file: 'enterprise-rag_cpu-tei-inguard-outguard.yaml (Enterprise RAG)',
    text: () => reference('enterprise-rag_cpu-tei-inguard-outguard.yaml'),
    platform: 'xeon',
    flavor: 'enterprise',
    deploys: {
      'embedding-svc': 'model (none), model BAAI/bge-base-en-v1.5',
      'retriever-svc': 'index rag-redis',
      'reranking-svc': 'model (none)',
      'llm-svc': 'model (none)',
    },
    // Enterprise RAG's export names no model for vLLM, so its CR never says which one runs.
    warnings: ['llm-svc no model'],
    again: ['llm-svc no model'],
  },
];

describe('importers: GMConnector config keys of every GMC dialect', () => {
  for (const c of CASES) {
    it(`${c.file}: import -> export keeps models, indexes and wiring; warns on exactly the keys it cannot place`, () => {
      const source = c.text();
      const { flow, warnings } = imported(source);
      assert.deepEqual(warnings.map(subject), c.warnings);
      const ids = new Set(flow.map((n) => n.id));
      for (const w of warnings) assert.ok(w.nodeId === '' || ids.has(w.nodeId) || source.includes(w.nodeId), `warning names no node or step: ${formatWarning(w)}`);
      const gmc = exported(flow, c.platform, c.flavor);
      assert.deepEqual(deployed(gmc), c.deploys);
      // The export speaks a dialect the importer knows: nothing new to warn about, and stable.
      const again = imported(gmc);
      assert.deepEqual(again.warnings.map(subject), c.again ?? []);
      assert.equal(exported(again.flow, c.platform, c.flavor), gmc);
    });
  }

  it('the RFC sample keeps BAAI/bge-reranker-large and Intel/neural-chat-7b-v3-3 on the nodes, and never prints a secret', () => {
    const { flow, warnings } = imported(fixture('gmc-0.6-rfc.yaml'));
    const model = (name: string) => flow.find((n) => n.name === name)?.model;
    assert.deepEqual([model('embedding-service'), model('reranking-service'), model('llm-service')], ['BAAI/bge-base-en-v1.5', 'BAAI/bge-reranker-large', 'Intel/neural-chat-7b-v3-3']);
    const text = warnings.map(formatWarning).join('\n');
    assert.doesNotMatch(text, /gmc-tokens/);
    assert.match(text, /node [0-9a-f]{16} \(llm-service\): its downstream step tgi-service \(Tgi\) has config key gmcTokenSecret \(value not shown\): the Secret GMC 0.6 read the Hugging Face token from.* — GMC 0.8 and later take the token from the manifests GMC is installed with/);
    assert.match(text, /config key hostPath = '\/root\/GMC\/data\/tgi': the host directory GMC 0.6 mounted as the model cache.* — .*MOUNT_DIR/);
  });

  it('reads 1.2+ keys (LLM_MODEL_ID on the Llm step, REDIS_HOST) and a model server outside the CR as the node\'s server, with a warning', () => {
    const cr = {
      kind: 'GMConnector',
      metadata: { name: 'ext', namespace: 'ext' },
      spec: {
        nodes: {
          root: {
            routerType: 'Sequence',
            steps: [
              { name: 'Embedding', internalService: { serviceName: 'embedding', config: { endpoint: '/v1/embeddings', TEI_EMBEDDING_ENDPOINT: 'tei' } } },
              { name: 'TeiEmbedding', internalService: { serviceName: 'tei', isDownstreamService: true, config: { MODEL_ID: 'BAAI/bge-small-en-v1.5' } } },
              { name: 'Retriever', data: '$response', internalService: { serviceName: 'retriever', config: { endpoint: '/v1/retrieval', REDIS_HOST: 'vdb', INDEX_NAME: 'docs', TEI_EMBEDDING_ENDPOINT: 'tei' } } },
              { name: 'VectorDB', internalService: { serviceName: 'vdb', isDownstreamService: true } },
              { name: 'Llm', data: '$response', internalService: { serviceName: 'llm', config: { endpoint: '/v1/chat/completions', LLM_ENDPOINT: 'http://vllm.example.com:8000', LLM_MODEL_ID: 'Qwen/Qwen2.5-7B-Instruct', LOGFLAG: 'true' } } },
            ],
          },
        },
      },
    };
    const { flow, warnings } = imported(JSON.stringify(cr));
    const llm = flow.find((n) => n.name === 'llm') as Node;
    assert.equal(llm.model, 'Qwen/Qwen2.5-7B-Instruct');
    const server = flow.find((n) => n.id === llm.server) as Node;
    assert.deepEqual([server.type, server.baseUrl, server.z], ['opea-server', 'http://vllm.example.com:8000', flow[0].id]);
    assert.equal((flow.find((n) => n.name === 'retriever') as Node).indexName, 'docs');
    assert.deepEqual(warnings.map((w) => `${w.nodeId === llm.id ? 'llm' : w.nodeId} ${w.message.replace(/:.*/, '')}`), [
      "llm LLM_ENDPOINT = 'http",
      "llm config key LOGFLAG = 'true'",
    ]);
    assert.match(warnings[0].message, /is a model server outside the CR: the node calls it in the editor .* the GMC export deploys a model server of its own/);
    assert.match(warnings[0].fix, /set the node's model to the one that server runs; .* choose backend vllm or openai or ollama with that microservice's URL as externalUrl/);
    assert.deepEqual(deployed(exported(flow, 'xeon')), { embedding: 'model BAAI/bge-small-en-v1.5', retriever: 'index docs', llm: 'model Qwen/Qwen2.5-7B-Instruct' });
  });

  it('warns on what it cannot resolve: a server named nowhere, an unused model server, a Redis outside the CR, a foreign namespace, a path of its own', () => {
    const cr = {
      kind: 'GMConnector',
      metadata: { name: 'odd', namespace: 'odd' },
      spec: {
        nodes: {
          root: {
            routerType: 'Sequence',
            steps: [
              { name: 'Embedding', internalService: { serviceName: 'embed', nameSpace: 'other', config: { endpoint: '/v1/embed', TEI_EMBEDDING_ENDPOINT: 'tei-gone' } } },
              { name: 'Retriever', data: '$response', internalService: { serviceName: 'retr', config: { endpoint: '/v1/retrieval', REDIS_URL: 'redis://redis.example.com:6379' } } },
              { name: 'Llm', data: '$response', internalService: { serviceName: 'llm', config: { endpoint: '/v1/chat/completions', TGI_LLM_ENDPOINT: 'tgi-a', LLM_MODEL_ID: 'x/other' } } },
              { name: 'Tgi', internalService: { serviceName: 'tgi-a', isDownstreamService: true, config: { MODEL_ID: 'x/served' } } },
              { name: 'Tgi', internalService: { serviceName: 'tgi-b', isDownstreamService: true, config: { MODEL_ID: 'x/unused' } } },
            ],
          },
        },
      },
    };
    const { flow, warnings } = imported(JSON.stringify(cr));
    assert.equal(flow.find((n) => n.name === 'llm')?.model, 'x/served');
    assert.equal(flow.find((n) => n.name === 'embed')?.model, 'BAAI/bge-base-en-v1.5');
    const lines = warnings.map(formatWarning);
    const expected = [
      /\(embed\): it runs in namespace 'other', not the CR's: .* — export into that namespace with --namespace/,
      /\(embed\): its endpoint is '\/v1\/embed', and the export writes the path of the Embedding service, '\/v1\/embeddings'/,
      /\(embed\): TEI_EMBEDDING_ENDPOINT = 'tei-gone' names no embedding model server step of router node 'root': the export wires it to the embedding model server it deploys — name a downstream embedding model server step/,
      /\(embed\): the CR names no model for it \(no model server step of its router node serves it\): the node takes the catalog's default 'BAAI\/bge-base-en-v1.5' — set the node's model/,
      /\(retr\): REDIS_URL = 'redis:\/\/redis.example.com:6379' names no VectorDB step of router node 'root': no node setting holds a Redis address.* — ingest the documents/,
      /\(llm\): config key LLM_MODEL_ID = 'x\/other' differs from the model its server tgi-a \(Tgi\) runs, 'x\/served': the node takes that one/,
      /^warning: node tgi-b \(Tgi\): downstream step tgi-b \(Tgi\) serves no stage: no step of its router node names it, so its model 'x\/unused' is not imported; the import leaves it out \(router node root\) — name it in the config of the step it serves \(TGI_LLM_ENDPOINT: tgi-b\), or remove it$/,
    ];
    assert.equal(lines.length, expected.length, lines.join('\n'));
    lines.forEach((line, i) => assert.match(line, expected[i]));
  });

  it('opea-flow import prints each warning on stderr, one line, and exits 0', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gmc-import-'));
    try {
      const out = path.join(dir, 'flow.json');
      const cli = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');
      const result = spawnSync(process.execPath, [cli, 'import', path.join(FIXTURES, 'gmc-0.6-rfc.yaml'), '--out', out], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, `${out}\n`);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 8);
      assert.ok(lines.every((l) => l.startsWith('warning: node ')), result.stderr);
      assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).find((n: Node) => n.name === 'reranking-service').model, 'BAAI/bge-reranker-large');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
