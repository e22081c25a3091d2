/**
 * What the exporter writes for GMC's router semantics, read without the router (test/router runs it):
 * the rail's condition, the default branch, the request bodies per route and the warnings per node;
 * and that an import of the exported CR gives the same flow back.
 */
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { DEFAULT_CHAT_TEMPLATE } from '../../core/contract/documents';
import { otherwiseCondition, RAIL_PASSED } from '../../core/gmc-conditions';
import { toNodeRedFlow } from '../../core/importers';
import { loadPipeline } from '../../core/pipeline';
import { formatWarning, ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { deployedRequests, EXAMPLE_QUESTION } from '../../exporters/router-requests';
import { exampleFlow } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TAB = 't';
const node = (type: string, props: Json, wires: string[][] = []) => ({ z: TAB, configVersion: 2, name: `${props.id} node`, wires, type, ...props });

/** in -> input rail -> switch on model-id (intel | otherwise) -> llm-a | llm-b -> out */
function guardedSwitch(rules: Json[] = [{ t: 'eq', v: 'intel', vt: 'str' }, { t: 'else' }]): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'Round trip' },
    node('http in', { id: 'in', url: '/q', method: 'post' }, [['guard']]),
    node('opea-guardrail', { id: 'guard', backend: 'opea', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'input', externalUrl: 'http://guard.safety.svc:9090/v1/guardrails' }, [['pick'], []]),
    node('switch', { id: 'pick', property: 'req.body["model-id"]', propertyType: 'msg', rules, checkall: 'false', outputs: rules.length }, [['a'], ['b']]),
    node('opea-llm', { id: 'a', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3', maxTokens: 200, temperature: 0.3 }, [['out'], []]),
    node('opea-llm', { id: 'b', backend: 'opea', model: 'meta-llama/Meta-Llama-3-8B-Instruct', maxTokens: 100, streaming: false }, [['out'], []]),
    node('http response', { id: 'out' }),
  ];
}

function exportGmc(flow: unknown): { cr: Json; text: string; warnings: string[] } {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items, []);
  const list = new ProblemList();
  const bundle = exportPipeline(pipeline, ['gmc'], { platform: 'xeon' }, list);
  assert.ok(bundle, JSON.stringify(list.items));
  const file = Object.keys(bundle).find((f) => f.endsWith('.yaml')) as string;
  return { cr: yaml.load(bundle[file]) as Json, text: bundle[file], warnings: list.warnings.map(formatWarning) };
}

describe('GMC router semantics in the export', () => {
  it('guards the step after an input rail and writes the otherwise rule as a default branch', () => {
    const { cr } = exportGmc(guardedSwitch());
    const root = cr.spec.nodes.root.steps as Json[];
    assert.deepEqual(root.map((s) => [s.name, s.condition]), [['Router', undefined], ['Llm', RAIL_PASSED]]);
    const branches = (cr.spec.nodes[root[1].nodeName].steps as Json[]).filter((s) => !s.internalService?.isDownstreamService);
    assert.deepEqual(branches.map((s) => s.condition), ['model-id==intel', otherwiseCondition('model-id', ['intel'])]);
  });

  it('imports its own export back to the same flow: exporting the import gives the same CR, byte for byte', () => {
    const { text } = exportGmc(guardedSwitch());
    const imported = toNodeRedFlow(text, 'round-trip.yaml');
    assert.deepEqual(imported.problems.items, []);
    const rules = (imported.flow as Json[]).find((n) => n.type === 'switch')?.rules;
    assert.deepEqual(rules, [{ t: 'eq', v: 'intel', vt: 'str' }, { t: 'else' }]);
    assert.equal(exportGmc(imported.flow).text, text);
  });

  it('refuses an "otherwise" rule that is not the last one', () => {
    const { problems } = loadPipeline(guardedSwitch([{ t: 'else' }, { t: 'eq', v: 'intel', vt: 'str' }]));
    assert.match(problems.items.map((p) => p.message).join('\n'), /rule 1 is "otherwise" but not the last rule/);
  });

  it('gives one request body per route, the first step\'s settings at the top level, and warns once per node that differs', () => {
    const { pipeline } = loadPipeline(guardedSwitch());
    const problems = new ProblemList();
    const requests = deployedRequests(pipeline.plan, 'xeon', problems);
    assert.deepEqual(requests.routes.map((r) => r.route), ['model-id = intel', 'model-id = any other value']);
    const [intel, other] = requests.routes.map((r) => r.body as Json);
    assert.equal(intel['model-id'], 'intel');
    assert.equal('model-id' in other, false);
    assert.equal(intel.text, EXAMPLE_QUESTION);
    // The LLMs come after the rail: their settings travel in `parameters`.
    assert.deepEqual({ ...intel.parameters, chat_template: undefined }, { max_tokens: 200, temperature: 0.3, top_p: 0.95, top_k: 10, repetition_penalty: 1.03, streaming: true, chat_template: undefined });
    assert.match(intel.parameters.chat_template, /\{context\}[\s\S]*\{question\}/, 'every backend fills the flow\'s template (Node-RED sends it to the OPEA service too), so the deployment gets it');
    assert.deepEqual(other.parameters, { max_tokens: 100, temperature: 0.01, top_p: 0.95, top_k: 10, repetition_penalty: 1.03, streaming: false, chat_template: DEFAULT_CHAT_TEMPLATE });
    const lines = problems.warnings.map(formatWarning);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines.find((l) => l.includes('node a ')) ?? '', /max_tokens 1024 unless max_tokens comes in the request's "parameters" \(the flow: 200\).*temperature 0\.01 .*its own prompt unless chat_template/);
    assert.match(lines.find((l) => l.includes('node b ')) ?? '', /max_tokens 1024 .*streaming true unless streaming comes in the request's "parameters" \(the flow: false\)/);
    assert.match(lines.find((l) => l.includes('node guard ')) ?? '', /local check pii, local check secrets, local check injection, local check characters run only in Node-RED/);
  });

  it('asks an LLM whose answer a later step reads not to stream, and warns when maxTokens cannot finish in 30 s', () => {
    const flow = [
      { id: TAB, type: 'tab', label: 'Output rail' },
      node('http in', { id: 'in', url: '/q', method: 'post' }, [['llm']]),
      node('opea-llm', { id: 'llm', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3', maxTokens: 600 }, [['rail'], []]),
      node('opea-guardrail', { id: 'rail', backend: 'opea', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'output', externalUrl: 'http://guard.safety.svc:9090/v1/guardrails', pii: 'off', secrets: 'off', injection: 'off', characters: 'off' }, [['out'], []]),
      node('http response', { id: 'out' }),
    ];
    const { pipeline } = loadPipeline(flow);
    for (const [platform, slow] of [['xeon', true], ['gaudi', false]] as const) {
      const problems = new ProblemList();
      const [route] = deployedRequests(pipeline.plan, platform, problems).routes;
      assert.equal(route.body.query, EXAMPLE_QUESTION, 'an LLM that comes first reads the query');
      assert.equal(route.body.streaming, false);
      assert.equal(route.body.max_tokens, 600);
      const warning = problems.warnings.map(formatWarning).join('\n');
      assert.match(warning, /streams in the flow, but the router cannot hand a streamed answer to the next step/);
      assert.equal(/600 tokens take about 60 s on xeon/.test(warning), slow, warning);
    }
  });

  it('warns about a switch without an otherwise rule, naming the crash of the router it can cause', () => {
    const withoutOtherwise = (exampleFlow('chatqna-switch.json') as Json[]).map((n) =>
      n.type === 'switch' ? { ...n, rules: n.rules.slice(0, -1), outputs: 2, wires: n.wires.slice(0, -1) } : n,
    );
    const { warnings } = exportGmc(withoutOtherwise);
    const switches = warnings.filter((w) => w.includes('matches no rule'));
    assert.equal(switches.length, 2);
    assert.match(switches[0], /stops here in Node-RED \(its client waits for a timeout\)/);
    assert.match(switches[0], /add an "otherwise" rule/);
    assert.match(switches[1], /the router process crashes/);
  });

  it('an "otherwise" rule that only answers in Node-RED (chatqna-switch\'s 400) is not exported, and the warning says so', () => {
    const { warnings } = exportGmc(exampleFlow('chatqna-switch.json'));
    const switches = warnings.filter((w) => w.includes('matches no rule'));
    assert.equal(switches.length, 2);
    assert.match(switches[0], /gets the answer of the "otherwise" rule's own path in Node-RED, which is not exported, while the router sends an empty body on/);
    assert.match(switches[0], /wire the "otherwise" rule to the stages such requests should take/);
  });

  it('exports a switch whose "otherwise" only answers in Node-RED exactly as the same switch without that rule', () => {
    // guardedSwitch with rules intel | llama | otherwise, the otherwise wired to an error answer.
    const rules = [{ t: 'eq', v: 'intel', vt: 'str' }, { t: 'eq', v: 'llama', vt: 'str' }, { t: 'else' }];
    const answering = guardedSwitch(rules).map((n) => (n.id === 'pick' ? { ...n, wires: [['a'], ['b'], ['refuse']] } : n));
    answering.push(node('change', { id: 'refuse', rules: [{ t: 'set', p: 'statusCode', pt: 'msg', to: '400', tot: 'num' }] }, [['junction']]), node('junction', { id: 'junction' }, [['refused']]), node('http response', { id: 'refused' }));
    const without = guardedSwitch(rules.slice(0, -1));
    const routes = loadPipeline(answering).pipeline.graph.switches;
    assert.deepEqual(routes.map((r) => [r.otherwise, r.answersOtherwise]), [[false, true]]);
    assert.equal(exportGmc(answering).text, exportGmc(without).text);
    // Wired to a stage instead, through the same change node, it is a branch that a change node cannot carry.
    const toStage = answering.map((n) => (n.id === 'refuse' ? { ...n, wires: [['b']] } : n));
    const { problems } = loadPipeline(toStage);
    assert.match(problems.items.map((p) => p.message).join('\n'), /a 'change' node cannot become a pipeline stage/);
  });

  it('warns when GMC cannot give a retriever that embeds the query text its TEI (the embedding sits in another router node)', () => {
    const flow = exampleFlow('retriever-ensemble.json') as Json[];
    const warned = (searchType: string, target: 'gmc' | 'compose') => {
      const copy = structuredClone(flow).map((n) => (n.name === 'retriever-docs' ? { ...n, searchType } : n));
      const { pipeline } = loadPipeline(copy);
      const problems = new ProblemList();
      assert.ok(exportPipeline(pipeline, [target], { platform: 'xeon' }, problems));
      return problems.warnings.filter((w) => w.message.includes('embeds the query text'));
    };
    const [mmr] = warned('mmr', 'gmc');
    assert.equal(mmr.label, 'retriever-docs');
    assert.match(mmr.message, /search type mmr embeds the query text, but GMC cannot give it the TEI of embedding/);
    assert.deepEqual(warned('similarity', 'gmc'), []);
    assert.deepEqual(warned('mmr', 'compose'), [], 'compose wires the TEI wherever the embedding is');
  });
});
