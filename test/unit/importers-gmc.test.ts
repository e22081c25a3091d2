import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { Platform } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { gmcShape } from '../support/gmc-shape';
import { REFERENCE_DIR, REPO_ROOT } from '../support/reference';

type Node = Record<string, unknown>;
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'importers');

function gmcText(flow: unknown, platform: Platform = 'xeon'): string {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, ['gmc'], { platform, name: 'rt', namespace: 'rt' }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  return (bundle as Record<string, string>)['gmc/rt.yaml'];
}

function imported(text: string, name: string): Node[] {
  const { flow, format, problems } = toNodeRedFlow(text, name);
  assert.deepEqual(problems.items.map(formatProblem), []);
  assert.equal(format, 'gmc');
  return flow as Node[];
}

const reference = (rel: string) => fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8');
const sampleCr = (file: string) => yaml.load(reference(`gmc/${file}`)) as { metadata: Node; spec: { nodes: Record<string, { routerType?: string; steps: Node[] }> } };
const problemsOf = (doc: unknown) => toNodeRedFlow(JSON.stringify(doc), 'x.json').problems.items;

describe('importers: GMConnector -> flow', () => {
  describe('round trips', () => {
    const flows = [
      ...['chatqna.json', 'chatqna-switch.json'].map((f) => path.join(REPO_ROOT, 'flows', f)),
      ...['ensemble-external.json', 'external-embedding.json', 'dataprep-index.json'].map((f) => path.join(FIXTURES, f)),
    ];
    for (const file of flows) {
      for (const platform of ['xeon', 'gaudi', 'nvidia'] as Platform[]) {
        it(`${path.basename(file)} -> GMC -> flow -> GMC is byte-stable (${platform})`, () => {
          const gmc1 = gmcText(JSON.parse(fs.readFileSync(file, 'utf8')), platform);
          const gmc2 = gmcText(imported(gmc1, 'rt.yaml'), platform);
          assert.equal(gmc2, gmc1);
        });
      }
    }

    for (const file of ['chatQnA_xeon.yaml', 'chatQnA_switch_xeon.yaml', 'chatQnA_dataprep_xeon_with_ui.yaml']) {
      it(`OPEA sample ${file}: same routing shape as the sample, then byte-stable`, () => {
        const sample = reference(`gmc/${file}`);
        const gmcA = gmcText(imported(sample, file));
        const sampleShape = gmcShape(yaml.load(sample) as Node);
        // The UI step is not a pipeline stage: it is left out on import, so out of the export too.
        const withoutUi = { ...sampleShape, steps: sampleShape.steps.filter((s) => s.name !== 'UI') };
        assert.deepEqual(gmcShape(yaml.load(gmcA) as Node), withoutUi);
        assert.equal(gmcText(imported(gmcA, 'again.yaml')), gmcA);
      });
    }

    it('an ensemble comes back as a fan-out gathered by a join waiting for every branch', () => {
      const gmc1 = gmcText(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'ensemble-external.json'), 'utf8')));
      const flow = imported(gmc1, 'rt.yaml');
      const joins = flow.filter((n) => n.type === 'join');
      assert.equal(joins.length, 1);
      assert.deepEqual([joins[0].mode, joins[0].count, joins[0].build], ['custom', '2', 'object']);
      const embed = flow.find((n) => n.name === 'embed') as Node;
      assert.equal((embed.wires as string[][])[0].length, 2);
      const external = flow.filter((n) => typeof n.externalUrl === 'string').map((n) => `${n.type}/${n.backend}/${n.externalUrl}`);
      assert.deepEqual(external, ['opea-guardrail/opea/http://guard.example.svc:9090/v1/guardrails', 'opea-llm/vllm/http://vllm-front.example.svc:9000/v1/chat/completions']);
    });
  });

  describe('mapping', () => {
    it('the switch sample: switches on req.body.<key>, models per branch, layout left to right', () => {
      const flow = imported(reference('gmc/chatQnA_switch_xeon.yaml'), 'switch.yaml');
      const tab = flow[0];
      assert.equal(tab.type, 'tab');
      assert.equal(tab.label, 'switch');
      assert.match(String(tab.info), /gmc\/platform: xeon/);
      assert.ok(flow.slice(1).every((n) => n.z === tab.id && /^[0-9a-f]{16}$/.test(String(n.id))));
      const switches = flow.filter((n) => n.type === 'switch');
      assert.deepEqual(switches.map((s) => [s.property, s.propertyType, s.outputs, JSON.stringify(s.rules)]), [
        ['req.body.embedding-model-id', 'msg', 2, '[{"t":"eq","v":"large","vt":"str"},{"t":"eq","v":"small","vt":"str"}]'],
        ['req.body.model-id', 'msg', 2, '[{"t":"eq","v":"intel","vt":"str"},{"t":"eq","v":"llama","vt":"str"}]'],
      ]);
      const byName = (n: string) => flow.find((f) => f.name === n) as Node;
      assert.equal(byName('llm-svc-llama').model, 'openlm-research/open_llama_3b');
      assert.equal(byName('llm-svc-intel').model, 'Intel/neural-chat-7b-v3-3');
      assert.equal(byName('embedding-svc-small').model, 'BAAI/bge-base-en-v1.5');
      // No MODEL_ID on the reranker's TEI: the model GMC's template deploys there.
      assert.equal(byName('reranking-svc').model, 'BAAI/bge-reranker-base');
      const x = (n: string) => byName(n).x as number;
      assert.ok(x('embedding-svc-large') < x('retriever-svc-large') && x('retriever-svc-large') < x('reranking-svc') && x('reranking-svc') < x('llm-svc-llama'));
      assert.equal(x('retriever-svc-large') - x('embedding-svc-large'), 180);
      assert.equal(byName('embedding-svc-large').y, byName('llm-svc-intel').y);
      assert.ok((byName('embedding-svc-small').y as number) > (byName('embedding-svc-large').y as number));
    });

    it('DataPrep becomes an ingest chain writing the index of the retriever sharing its Redis', () => {
      const cr = sampleCr('chatQnA_dataprep_xeon_with_ui.yaml');
      const retriever = cr.spec.nodes.root.steps.find((s) => s.name === 'Retriever') as { internalService: { config: Record<string, string> } };
      retriever.internalService.config.INDEX_NAME = 'handbook';
      const flow = imported(JSON.stringify(cr), 'dp.json');
      const dp = flow.find((n) => n.type === 'opea-dataprep') as Node;
      assert.deepEqual([dp.name, dp.backend, dp.indexName], ['data-prep-svc', 'redis', 'handbook']);
      const into = flow.find((n) => (n.wires as string[][] | undefined)?.[0]?.includes(dp.id as string)) as Node;
      assert.deepEqual([into.type, into.url, into.method], ['http in', '/dataprep', 'post']);
      assert.equal(flow.find((n) => (dp.wires as string[][])[0].includes(n.id as string))?.type, 'http response');
      assert.equal(flow.filter((n) => String(n.name).startsWith('ui')).length, 0);
    });

    it('notes the platform label on the tab, and says when it is not one of ours', () => {
      const cr = sampleCr('chatQnA_xeon.yaml');
      (cr.metadata.labels as Node)['gmc/platform'] = 'gaudi';
      assert.match(String(imported(JSON.stringify(cr), 'g.json')[0].info), /gmc\/platform: gaudi; the flow is platform-neutral, export with --platform gaudi/);
      (cr.metadata.labels as Node)['gmc/platform'] = 'tpu';
      assert.match(String(imported(JSON.stringify(cr), 'g.json')[0].info), /label 'tpu' is none of xeon, gaudi, nvidia/);
    });

    it('ids are deterministic: the same CR imports to the same flow', () => {
      const text = reference('gmc/chatQnA_switch_xeon.yaml');
      assert.deepEqual(imported(text, 'a.yaml'), imported(text, 'b.yaml'));
    });
  });

  describe('problems', () => {
    it('lists every step it cannot map, in one go, by serviceName and step name', () => {
      const cr = sampleCr('chatQnA_xeon.yaml');
      cr.spec.nodes.root.steps.push(
        { name: 'DocSum', data: '$response', internalService: { serviceName: 'docsum-svc' } },
        { name: 'Asr', internalService: { serviceName: 'asr-svc', isDownstreamService: true } },
        { name: 'WebRetriever', data: '$response', internalService: {} },
        { name: 'Tts', externalService: 'http://tts.example/v1/tts' },
        { name: 'UI', internalService: { serviceName: 'ui-svc', isDownstreamService: true } },
      );
      const { flow, problems } = toNodeRedFlow(JSON.stringify(cr), 'x.json');
      assert.equal(flow, null);
      assert.deepEqual(problems.items.map((p) => `${p.nodeId} ${p.label}`), ['docsum-svc DocSum', 'asr-svc Asr', 'root.steps[10] WebRetriever', 'root.steps[11] Tts']);
      assert.equal(formatProblem(problems.items[0]), "node docsum-svc (DocSum): GMC step 'DocSum' (router node root) has no node type here — remove the step, or build that stage in Node-RED by hand (node-red-contrib-opea has embedding, retriever, rerank, LLM, guardrail and dataprep stages)");
      assert.match(problems.items[1].message, /downstream 'Asr' step \(router node root\) serves nothing/);
      assert.match(problems.items[3].message, /an external 'Tts' step .* has no node type here/);
    });

    it('reports routing it cannot follow: unknown nodeName, a loop, an unreached node, a Switch without conditions', () => {
      const cr = sampleCr('chatQnA_switch_xeon.yaml');
      cr.spec.nodes.node2.steps.push({ name: 'Llm', condition: 'model-id==loop', nodeName: 'node2' });
      cr.spec.nodes.orphan = { routerType: 'Sequence', steps: [] };
      cr.spec.nodes.root.steps.push({ name: 'Llm', nodeName: 'nowhere' });
      cr.spec.nodes.node1.steps.forEach((s) => delete s.condition);
      const messages = problemsOf(cr).map(formatProblem);
      assert.deepEqual(messages.map((m) => m.replace(/ — .*/, '')), [
        "node root.steps[4] (Llm): it routes to router node 'nowhere', which the CR does not have",
        'node node1 (node1): its steps do not all test one request field as key==value (with at most one default branch)',
        "node node2 (node2): router node 'node2' routes back into itself (root -> node2)",
        "node orphan (orphan): router node 'orphan' is not reached from root, so GMC's router never runs it",
      ]);
    });

    it('refuses what is not a GMConnector it can read, naming the node', () => {
      const cases: [unknown, RegExp][] = [
        [{ kind: 'GMConnector' }, /not a GMConnector with a root node/],
        [{ kind: 'GMConnector', spec: { nodes: { root: 'x' } } }, /not a GMConnector with a root node/],
        [{ kind: 'GMConnector', spec: { nodes: { root: { steps: [null] } } } }, /^node root \(root\): router node 'root' has no list of steps/],
        [{ kind: 'GMConnector', spec: { nodes: { root: { steps: [] }, b: { steps: 'x' } } } }, /^node b \(b\): router node 'b' has no list of steps/],
        [{ kind: 'GMConnector', spec: { nodes: { root: { routerType: 'Parallel', steps: [] } } } }, /router type 'Parallel' is none of Sequence, Switch, Ensemble/],
      ];
      for (const [doc, expected] of cases) {
        const { flow, problems } = toNodeRedFlow(JSON.stringify(doc), 'x.json');
        assert.equal(flow, null);
        assert.match(problems.items.map(formatProblem).join('\n'), expected);
      }
    });

    it('step and node names that are Object.prototype keys are plain unknown names', () => {
      const cr = { kind: 'GMConnector', spec: { nodes: { root: { routerType: 'Sequence', steps: [{ name: 'constructor', internalService: { serviceName: 'a' } }, { name: 'toString', nodeName: 'hasOwnProperty' }, { name: '__proto__', externalService: 'http://x' }] } } } };
      const problems = problemsOf(cr);
      assert.deepEqual(problems.map((p) => p.nodeId), ['a', 'root.steps[1]', 'root.steps[2]']);
    });

    it('deep routing chains end in a problem, not a stack overflow', () => {
      const nodes: Record<string, unknown> = { root: { routerType: 'Sequence', steps: [{ name: 'Embedding', nodeName: 'n0' }] } };
      for (let i = 0; i < 5000; i++) nodes[`n${i}`] = { routerType: 'Sequence', steps: [{ name: 'Embedding', nodeName: `n${i + 1}` }] };
      nodes.n5000 = { routerType: 'Sequence', steps: [] };
      const messages = problemsOf({ kind: 'GMConnector', spec: { nodes } }).map((p) => p.message);
      assert.ok(messages.includes('routing is nested deeper than 16 router nodes'), messages[0]);
    });
  });
});
