import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { otherwiseCondition, parseCondition, RAIL_PASSED } from '../../core/gmc-conditions';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, ExportOptions } from '../../exporters';
import { checkGmConnector } from '../../exporters/gmc/check';
import { gmcShape } from '../support/gmc-shape';
import { exampleFlow, referenceYaml } from '../support/reference';

type Flow = Record<string, unknown>[];

function exportGmc(flow: unknown, options: Partial<ExportOptions> = {}): { files: Record<string, string>; problems: string[] } {
  const { pipeline, problems } = loadPipeline(flow);
  if (!problems.empty) return { files: {}, problems: problems.items.map(formatProblem) };
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, ['gmc'], { platform: 'xeon', ...options }, exportProblems);
  return { files: bundle ?? {}, problems: exportProblems.items.map(formatProblem) };
}

function onlyCr(flow: unknown, options: Partial<ExportOptions> = {}): Record<string, unknown> {
  const { files, problems } = exportGmc(flow, options);
  assert.deepEqual(problems, []);
  const crFiles = Object.keys(files).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(Object.keys(files).sort(), ['gmc/README.md', ...crFiles].sort());
  assert.equal(crFiles.length, 1);
  return yaml.load(files[crFiles[0]]) as Record<string, unknown>;
}

const TAB = 't0';
let seq = 0;
function node(type: string, props: Record<string, unknown>, wires: string[][] = []): Record<string, unknown> {
  seq += 1;
  return { id: String(props.id ?? `n${seq}`), type, z: TAB, wires, ...props };
}
const tab = (label = 'Test pipeline') => ({ id: TAB, type: 'tab', label });
const emb = (id: string, to: string[], extra: Record<string, unknown> = {}) => node('opea-embedding', { id, name: id, backend: 'tei', model: 'BAAI/bge-base-en-v1.5', ...extra }, [to]);
const ret = (id: string, to: string[], extra: Record<string, unknown> = {}) => node('opea-retriever', { id, name: id, backend: 'redis', ...extra }, [to]);
const llm = (id: string, to: string[], extra: Record<string, unknown> = {}) => node('opea-llm', { id, name: id, backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3', ...extra }, [to]);
const httpIn = (to: string[]) => node('http in', { id: 'in', url: '/q', method: 'post' }, [to]);
const httpOut = () => node('http response', { id: 'out' });

function chain(...middle: Record<string, unknown>[]): Flow {
  return [tab(), httpIn([String(middle[0].id)]), ...middle, httpOut()];
}

/** flows/chatqna.json without its Ingest tab. */
function chatqnaQueryTab(): Flow {
  const flow = exampleFlow('chatqna.json') as Flow;
  const ingestTab = flow.find((n) => n.type === 'tab' && n.label === 'Ingest')?.id;
  assert.ok(ingestTab);
  return flow.filter((n) => n.id !== ingestTab && n.z !== ingestTab);
}

describe('GMC exporter', () => {
  describe('equivalence with the OPEA samples', () => {
    it("exports flows/chatqna.json (query and ingest tabs) with the steps, data and wiring of chatQnA_dataprep_xeon_with_ui.yaml, UI aside", () => {
      const ours = onlyCr(exampleFlow('chatqna.json'));
      const reference = gmcShape(referenceYaml('gmc/chatQnA_dataprep_xeon_with_ui.yaml'));
      assert.deepEqual(gmcShape(ours), { ...reference, steps: reference.steps.filter((s) => s.name !== 'UI') });
    });

    it("exports flows/chatqna.json's query tab alone with the steps, data and wiring of chatQnA_xeon.yaml", () => {
      const ours = onlyCr(chatqnaQueryTab());
      assert.deepEqual(gmcShape(ours), gmcShape(referenceYaml('gmc/chatQnA_xeon.yaml')));
    });

    it('exports flows/chatqna-switch.json with the steps, data, conditions and wiring of chatQnA_switch_xeon.yaml', () => {
      const ours = onlyCr(exampleFlow('chatqna-switch.json'));
      assert.deepEqual(gmcShape(ours), gmcShape(referenceYaml('gmc/chatQnA_switch_xeon.yaml')));
    });

    it('the shape comparison notices a changed step order, a lost data or a mis-wired key', () => {
      const reference = referenceYaml('gmc/chatQnA_xeon.yaml');
      const base = JSON.stringify(gmcShape(reference));
      const mutate = (change: (steps: Record<string, unknown>[]) => void) => {
        const copy = structuredClone(reference);
        change((copy.spec as { nodes: { root: { steps: Record<string, unknown>[] } } }).nodes.root.steps);
        return JSON.stringify(gmcShape(copy));
      };
      assert.notEqual(mutate((s) => s.reverse()), base);
      assert.notEqual(mutate((s) => delete s[2].data), base);
      assert.notEqual(mutate((s) => ((s[2].internalService as { config: Record<string, string> }).config.REDIS_URL = 'tei-embedding-svc')), base);
    });

    it('writes the model of each model server as its MODEL_ID', () => {
      const cr = onlyCr(exampleFlow('chatqna-switch.json'));
      const text = JSON.stringify(cr);
      for (const model of ['BAAI/bge-base-en-v1.5', 'BAAI/bge-small-en-v1.5', 'Intel/neural-chat-7b-v3-3', 'openlm-research/open_llama_3b']) {
        assert.ok(text.includes(`"MODEL_ID":"${model}"`), model);
      }
    });

    it('passes a vector index other than the default to the retriever as INDEX_NAME', () => {
      const text = JSON.stringify(onlyCr(exampleFlow('chatqna-switch.json')));
      assert.ok(text.includes('"INDEX_NAME":"rag-redis-large"'));
      assert.ok(text.includes('"INDEX_NAME":"rag-redis-small"'));
      assert.ok(!JSON.stringify(onlyCr(exampleFlow('chatqna.json'))).includes('INDEX_NAME'));
    });
  });

  describe('output', () => {
    it('is byte-identical for the same flow, whatever the order of its nodes', () => {
      const flow = exampleFlow('chatqna-switch.json') as Flow;
      const first = exportGmc(flow).files;
      const again = exportGmc(structuredClone(flow)).files;
      const reversed = exportGmc([...flow].reverse()).files;
      assert.deepEqual(again, first);
      assert.deepEqual(reversed, first);
    });

    it('names the file after --name and puts it in --namespace', () => {
      const { files } = exportGmc(exampleFlow('chatqna.json'), { name: 'qa', namespace: 'team-a' });
      assert.deepEqual(Object.keys(files), ['gmc/qa.yaml', 'gmc/README.md']);
      assert.match(files['gmc/README.md'], /kubectl apply -f qa\.yaml/);
      const cr = yaml.load(files['gmc/qa.yaml']) as { metadata: { name: string; namespace: string } };
      assert.equal(cr.metadata.name, 'qa');
      assert.equal(cr.metadata.namespace, 'team-a');
    });

    it('refuses a name or namespace Kubernetes would reject', () => {
      assert.match(exportGmc(exampleFlow('chatqna.json'), { name: 'Chat QnA' }).problems.join('\n'), /GMConnector name is not a Kubernetes name/);
      assert.match(exportGmc(exampleFlow('chatqna.json'), { namespace: 'a'.repeat(64) }).problems.join('\n'), /namespace is not a Kubernetes name/);
    });

    it('uses the platform step names and label: Gaudi and NVIDIA', () => {
      const gaudi = JSON.stringify(gmcShape(onlyCr(exampleFlow('chatqna.json'), { platform: 'gaudi' })));
      assert.match(gaudi, /"TeiEmbeddingGaudi"/);
      assert.match(gaudi, /"TgiGaudi"/);
      const nvidia = onlyCr(exampleFlow('chatqna.json'), { platform: 'nvidia' });
      assert.match(JSON.stringify(nvidia), /"TgiNvidia"/);
      assert.equal((nvidia.metadata as { labels: Record<string, string> }).labels['gmc/platform'], 'nvidia');
    });

    it('holds no secret: server credentials and keys in the flow never reach the CR', () => {
      const flow = exampleFlow('chatqna.json') as Flow;
      const server = { id: 'srv', type: 'opea-server', name: 'tgi', baseUrl: 'http://tgi.example:8080', credentials: { apiKey: 'sk-secret-value-123456' } };
      const withServer = flow.map((n) => (n.type === 'opea-llm' ? { ...n, server: 'srv', apiKey: 'sk-secret-value-123456' } : n));
      const text = Object.values(exportGmc([...withServer, server]).files).join('');
      assert.ok(text.length > 0);
      assert.ok(!text.includes('sk-secret'));
      assert.ok(!/HF_TOKEN|HUGGINGFACEHUB_API_TOKEN/.test(text));
    });
  });

  describe('backends GMC cannot deploy', () => {
    it('refuses vLLM without an externalUrl, naming the node and the fix', () => {
      const { problems } = exportGmc(chain(emb('e', ['l']), llm('l', ['out'], { backend: 'vllm' })));
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^node l \(l\): \[gmc\] vLLM is not deployed by the exporters.*— set externalUrl .* or choose backend tgi, opea/);
    });

    it('routes vLLM to its externalUrl as an externalService step', () => {
      const cr = onlyCr(chain(emb('e', ['l']), llm('l', ['out'], { backend: 'vllm', externalUrl: 'http://llm-textgen.ai.svc:9000/v1/chat/completions' })));
      const steps = (cr.spec as { nodes: { root: { steps: Record<string, unknown>[] } } }).nodes.root.steps;
      assert.deepEqual(steps[2], { name: 'Llm', data: '$response', externalService: 'http://llm-textgen.ai.svc:9000/v1/chat/completions' });
    });

    it('refuses embedded backends: they run only inside Node-RED', () => {
      const { problems } = exportGmc(chain(emb('e', ['r'], { backend: 'hashing', model: '' }), ret('r', ['out'], { backend: 'memory' })));
      assert.equal(problems.length, 2);
      assert.match(problems[0], /^node e \(e\): \[gmc\] the hashing embedder runs only inside Node-RED, so GMC cannot deploy.*choose a deployable backend \(tei, opea\)/);
      assert.match(problems[1], /^node r \(r\): \[gmc\] the in-process vector store runs only inside Node-RED/);
      const local = node('opea-guardrail', { id: 'g', name: 'guard', backend: 'local' }, [['e']]);
      assert.match(exportGmc([tab(), httpIn(['g']), local, emb('e', ['out']), httpOut()]).problems[0], /^node g \(guard\): .* — choose a backend served elsewhere \(opea, llamaguard\) and set its externalUrl$/);
    });

    it('exports a guardrail with an externalUrl as an external step (GMC has no guardrail step)', () => {
      const guard = node('opea-guardrail', { id: 'g', name: 'guard', backend: 'opea', model: 'meta-llama/Meta-Llama-Guard-2-8B', externalUrl: 'http://guard:9090/v1/guardrails' }, [['e']]);
      const cr = onlyCr([tab(), httpIn(['g']), guard, emb('e', ['out']), httpOut()]);
      const steps = (cr.spec as { nodes: { root: { steps: Record<string, unknown>[] } } }).nodes.root.steps;
      assert.deepEqual(steps[0], { name: 'Router', externalService: 'http://guard:9090/v1/guardrails' });
      assert.equal(steps[1].data, '$response');
    });
  });

  describe('routing', () => {
    it('turns a fan-out gathered by a join into an Ensemble of Sequence sub-nodes', () => {
      const join = node('join', { id: 'j', mode: 'custom', count: '2', build: 'object' }, [['out']]);
      const flow = [tab(), httpIn(['e', 'l']), emb('e', ['r']), ret('r', ['j']), llm('l', ['j']), join, httpOut()];
      const cr = onlyCr(flow);
      const shape = gmcShape(cr);
      assert.equal(shape.steps.length, 1);
      const ensemble = shape.steps[0].node as ReturnType<typeof gmcShape>;
      assert.equal(ensemble.routerType, 'Ensemble');
      assert.deepEqual(ensemble.steps.map((s) => s.name), ['Embedding', 'Llm']);
      const first = ensemble.steps[0].node as ReturnType<typeof gmcShape>;
      assert.equal(first.routerType, 'Sequence');
      assert.deepEqual(first.steps.map((s) => s.name), ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB']);
    });

    it('refuses an ensemble of two branches of the same step name: the router would keep one answer', () => {
      const join = node('join', { id: 'j', mode: 'custom', count: '2' }, [['out']]);
      const flow = [tab(), httpIn(['e']), node('opea-embedding', { id: 'e', name: 'e', backend: 'tei', model: 'BAAI/bge-base-en-v1.5' }, [['r1', 'r2']]), ret('r1', ['j']), ret('r2', ['j'], { indexName: 'other' }), join, httpOut()];
      const { problems } = exportGmc(flow);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^node r2 \(r2\): \[gmc\] GMC's router merges ensemble answers by step name/);
    });

    it('refuses switch values the router cannot match', () => {
      const sw = node('switch', { id: 's', name: 'by model', property: 'req.body.model', propertyType: 'msg', rules: [{ t: 'eq', v: 'llama-3.1', vt: 'str' }, { t: 'eq', v: 'small', vt: 'str' }] }, [['l1'], ['l2']]);
      const flow = [tab(), httpIn(['s']), sw, llm('l1', ['out']), llm('l2', ['out']), httpOut()];
      const { problems } = exportGmc(flow);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^node s \(by model\): \[gmc\] rule 1 value 'llama-3\.1' cannot be matched by GMC's router/);
    });
  });

  describe('dataprep', () => {
    it('deploys dataprep beside the retriever that reads its index, wired to that Redis and TEI', () => {
      const flow = chatqnaQueryTab();
      const ingestIn = { id: 'ingest', type: 'http in', z: flow[0].id, url: '/ingest', method: 'post', wires: [['dp']] };
      const dp = { id: 'dp', type: 'opea-dataprep', z: flow[0].id, name: 'dataprep', backend: 'redis', indexName: 'rag-redis', wires: [['done']] };
      const done = { id: 'done', type: 'http response', z: flow[0].id, wires: [] };
      const ours = gmcShape(onlyCr([...flow, ingestIn, dp, done]));
      const reference = gmcShape(referenceYaml('gmc/chatQnA_dataprep_xeon_with_ui.yaml'));
      const withoutUi = { ...reference, steps: reference.steps.filter((s) => s.name !== 'UI') };
      assert.deepEqual(ours, withoutUi);
    });

    it('finds the dataprep of an ingest tab that writes the index the query tab reads', () => {
      const flow = chatqnaQueryTab();
      const ingest = [
        { id: 'ingest-tab', type: 'tab', label: 'Ingest' },
        { id: 'dp', type: 'opea-dataprep', z: 'ingest-tab', name: 'dataprep', backend: 'redis', wires: [[]] },
        { id: 'other', type: 'opea-dataprep', z: 'ingest-tab', name: 'elsewhere', backend: 'redis', indexName: 'another-index', wires: [[]] },
      ];
      const shape = gmcShape(onlyCr([...flow, ...ingest]));
      assert.deepEqual(shape.steps.filter((s) => s.name === 'DataPrep').length, 1);
    });

    it('refuses dataprep whose index no retriever reads', () => {
      const dp = { id: 'dp', type: 'opea-dataprep', z: TAB, name: 'dataprep', backend: 'redis', indexName: 'elsewhere', wires: [] };
      const { problems } = exportGmc([...chain(emb('e', ['r']), ret('r', ['out'])), dp]);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^node dp \(dataprep\): \[gmc\] it writes index 'elsewhere', which no Redis retriever of the pipeline reads/);
    });
  });
});

describe('GMConnector checks', () => {
  for (const file of ['chatQnA_xeon.yaml', 'chatQnA_switch_xeon.yaml', 'chatQnA_dataprep_xeon_with_ui.yaml']) {
    it(`accept OPEA's sample ${file}`, () => {
      assert.deepEqual(checkGmConnector(referenceYaml(`gmc/${file}`)), []);
    });
  }

  it("reject the Enterprise RAG dialect's step names, which upstream GMC's webhook does not know", () => {
    const errors = checkGmConnector(referenceYaml('gmc/enterprise-rag_cpu-tei-inguard-outguard.yaml'));
    for (const name of ['Fingerprint', 'PromptTemplate', 'LLMGuardInput', 'VLLM', 'LLMGuardOutput']) {
      assert.ok(errors.some((e) => e.includes(`'${name}' is not a step name`)), name);
    }
  });

  const sample = () => structuredClone(referenceYaml('gmc/chatQnA_xeon.yaml')) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('reject unknown fields anywhere (the cluster would drop them silently)', () => {
    const cr = sample();
    cr.spec.nodes.root.steps[0].internalService.replicas = 2;
    cr.spec.routerConfig.image = 'x';
    const errors = checkGmConnector(cr);
    assert.ok(errors.some((e) => e.includes("must NOT have additional properties 'replicas'")), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes("'image'")), errors.join('\n'));
  });

  it('reject a missing root, a dangling nodeName and a repeated serviceName', () => {
    const cr = sample();
    cr.spec.nodes.main = cr.spec.nodes.root;
    delete cr.spec.nodes.root;
    cr.spec.nodes.main.steps.push({ name: 'Llm', nodeName: 'nowhere', data: '$response' });
    cr.spec.nodes.main.steps[2].internalService.serviceName = 'embedding-svc';
    const errors = checkGmConnector(cr).join('\n');
    assert.match(errors, /spec.nodes has no root node/);
    assert.match(errors, /nodeName 'nowhere' does not exist/);
    assert.match(errors, /serviceName 'embedding-svc' is already used/);
  });

  it('reject a downstream key that names no downstream step of the same node', () => {
    const cr = sample();
    cr.spec.nodes.root.steps[1].internalService.isDownstreamService = false;
    cr.spec.nodes.root.steps[1].data = '$response';
    assert.match(checkGmConnector(cr).join('\n'), /TEI_EMBEDDING_ENDPOINT names 'tei-embedding-svc', which is no downstream step of node root/);
  });

  it('reject a Sequence step that does not take the previous response, and conditions a node type does not read', () => {
    const cr = sample();
    delete cr.spec.nodes.root.steps[4].data;
    cr.spec.nodes.root.steps[6].condition = 'model==a';
    cr.spec.nodes.root.steps[0].condition = RAIL_PASSED;
    const errors = checkGmConnector(cr).join('\n');
    assert.match(errors, /steps\[4\] follows another step of a Sequence but does not take its response/);
    assert.match(errors, /steps\[6\].condition 'model==a' in a Sequence must test that the rail before it passed/);
    assert.match(errors, /steps\[0\].condition .* in a Sequence must test that the rail before it passed/);
    cr.spec.nodes.root.steps[6].condition = RAIL_PASSED;
    cr.spec.nodes.root.steps[4].data = '$response';
    delete cr.spec.nodes.root.steps[0].condition;
    assert.deepEqual(checkGmConnector(cr), []);
  });

  it('read back the conditions the exporter writes, and only those', () => {
    assert.deepEqual(parseCondition('model-id==intel'), { type: 'equals', key: 'model-id', value: 'intel' });
    assert.deepEqual(parseCondition(otherwiseCondition('model-id', ['intel', 'llama'])), { type: 'otherwise', key: 'model-id', values: ['intel', 'llama'] });
    assert.deepEqual(parseCondition(RAIL_PASSED), { type: 'rail-passed' });
    for (const other of ['a.b==c', 'model-id==a b', '[[k,!"no value"].0]|#(!="a")#', 'text', '']) assert.equal(parseCondition(other), null, other);
  });
});
