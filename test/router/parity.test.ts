/**
 * Parity: the same flow run in Node-RED (its `opea` backends calling the GenAIComps 1.1 stand-ins) and
 * exported (compose and GMC) under OPEA's real GMC router with the same stand-ins. What reaches each
 * service is compared: the settings the service acts on, the rail's verdict, the branch taken. With the
 * request bodies of the bundle README nothing differs; with a bare request every difference is one the
 * export names in a warning on that node.
 */
import assert from 'node:assert/strict';
import { loadPipeline } from '../../core/pipeline';
import { Problem, ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { deployedRequests, EXAMPLE_QUESTION, RouteRequest } from '../../exporters/router-requests';
import { composeWorld, exportedWorld, exportFlow, WORLD_TARGETS, WorldTarget } from '../support/peers/exported-worlds';
import { RouterWorld } from '../support/peers/router-world';
import { HopRecord, startStandIns, StandInRole, StandIns } from '../support/peers/stand-ins';
import { ask, label } from '../support/peers/world-tests';
import { coreNodes, helper, nextMessage, onEachRuntime, packNodes, Runtime } from '../support/runtimes';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TAB = 'parity';
/** The request fields each 1.1 service acts on that a node's settings decide. */
const FIELDS: Partial<Record<StandInRole, string[]>> = {
  retriever: ['k', 'search_type', 'score_threshold', 'fetch_k', 'lambda_mult'],
  reranking: ['top_n'],
  llm: ['max_tokens', 'temperature', 'top_p', 'top_k', 'repetition_penalty', 'streaming', 'chat_template'],
};
/** Only the guardrail's remote check, so the verdict is the service's in both places. */
const REMOTE_ONLY = { pii: 'off', secrets: 'off', injection: 'off', banned: 'off', characters: 'off', limits: 'off', schema: 'off', remote: 'block', remoteChecks: 'guardrails' };
const SERVERS: StandInRole[] = ['guardrail', 'embedding', 'retriever', 'reranking', 'llm'];

const node = (type: string, props: Json, wires: string[][] = []) => ({ z: TAB, configVersion: 2, name: `${props.id} node`, wires, type, ...props });
// Config node names differ from every node id: Node-RED takes a property equal to a node id for a reference to it.
const server = (role: string, url = 'http://127.0.0.1:9') => ({ id: `s-${role}`, type: 'opea-server', name: `server of ${role}`, baseUrl: url, timeout: 5, retries: 0, backoff: 10, headers: '', verifyTls: true });

/** in -> [guard ->] embed -> retrieve -> rerank -> llm -> out, each stage with settings other than the 1.1 services' defaults. */
function ragFlow(guarded: boolean, urls: Record<string, string> = {}): Json[] {
  const first = guarded ? 'guard' : 'embed';
  return [
    { id: TAB, type: 'tab', label: 'Parity' },
    ...SERVERS.map((role) => server(role, urls[role])),
    node('http in', { id: 'in', url: '/q', method: 'post' }, [[first]]),
    ...(guarded ? [node('opea-guardrail', { id: 'guard', backend: 'opea', server: 's-guardrail', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'input', externalUrl: 'http://guard.safety.svc:9090/v1/guardrails', ...REMOTE_ONLY }, [['embed'], []])] : []),
    node('opea-embedding', { id: 'embed', backend: 'opea', server: 's-embedding', model: 'BAAI/bge-base-en-v1.5' }, [['retrieve']]),
    node('opea-retriever', { id: 'retrieve', backend: 'redis', server: 's-retriever', searchK: 3, searchType: 'similarity', scoreThreshold: 0.3, fetchK: 30, lambdaMult: 0.4 }, [['rerank']]),
    node('opea-rerank', { id: 'rerank', backend: 'opea', server: 's-reranking', model: 'BAAI/bge-reranker-base', topN: 2 }, [['llm']]),
    node('opea-llm', { id: 'llm', backend: 'opea', server: 's-llm', model: 'Intel/neural-chat-7b-v3-3', maxTokens: 256, temperature: 0.2, topP: 0.9, topK: 5, repetitionPenalty: 1.1, streaming: false }, [['out'], []]),
    node('http response', { id: 'out' }),
  ];
}

/** in -> switch on model-id (intel, otherwise) -> llm-a | llm-b -> out */
function switchFlow(urls: Record<string, string> = {}): Json[] {
  const llm = (id: string) => node('opea-llm', { id, backend: 'opea', server: `s-${id}`, model: 'Intel/neural-chat-7b-v3-3', maxTokens: 200, streaming: false }, [['out'], []]);
  return [
    { id: TAB, type: 'tab', label: 'Parity switch' },
    server('llm-a', urls['llm-a']),
    server('llm-b', urls['llm-b']),
    node('http in', { id: 'in', url: '/q', method: 'post' }, [['pick']]),
    node('switch', { id: 'pick', property: 'req.body["model-id"]', propertyType: 'msg', rules: [{ t: 'eq', v: 'intel', vt: 'str' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2 }, [['llm-a'], ['llm-b']]),
    llm('llm-a'),
    llm('llm-b'),
    node('http response', { id: 'out' }),
  ];
}

/** The flow made runnable by the test helper: http nodes replaced by a helper node at the end. */
function inNodeRed(flow: Json[]): Json[] {
  return flow.filter((n) => n.type !== 'http in').map((n) => (n.type === 'http response' ? { id: n.id, type: 'helper', z: TAB } : n));
}

function requestsOf(flow: Json[]): { routes: RouteRequest[]; warnings: Problem[] } {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items, []);
  const list = new ProblemList();
  const routes = deployedRequests(pipeline.plan, 'xeon', list).routes;
  assert.ok(exportPipeline(pipeline, WORLD_TARGETS, { platform: 'xeon' }, new ProblemList()));
  return { routes, warnings: list.warnings };
}

/** What each service acted on, by stand-in role: the fields of FIELDS from the validated request. */
function actedOn(hops: HopRecord[]): Partial<Record<StandInRole, Json>> {
  const seen: Partial<Record<StandInRole, Json>> = {};
  for (const hop of hops) {
    const fields = FIELDS[hop.role];
    if (!fields || !hop.effective) continue;
    seen[hop.role] = Object.fromEntries(fields.map((f) => [f, hop.effective?.[f]]));
  }
  return seen;
}

const ROLE_NODE: Partial<Record<StandInRole, string>> = { retriever: 'retrieve', reranking: 'rerank', llm: 'llm' };

/** Runs `flow` in Node-RED against fresh stand-ins: the message each exit got (or null) and the hops. */
async function runInNodeRed(runtime: Runtime, flowOf: (urls: Record<string, string>) => Json[], names: { role: StandInRole; name: string }[], msg: Json, exits: string[]): Promise<{ out: (Json | null)[]; hops: HopRecord[] }> {
  const peers: StandIns = await startStandIns(names);
  try {
    await helper.load([...packNodes(), ...coreNodes(runtime, ['function/10-switch.js'])], inNodeRed(flowOf(peers.base)));
    const waits = exits.map((id) => nextMessage(helper.getNode(id), 4000).catch(() => null));
    const first = flowOf(peers.base).find((n) => n.type === 'http in')?.wires[0][0] as string;
    helper.getNode(first).receive(msg);
    const out = await Promise.all(waits);
    return { out, hops: peers.log() };
  } finally {
    await helper.unload();
    await peers.stop();
  }
}

describe('parity: a flow in Node-RED and its export under GMC\'s router reach the OPEA 1.1 services alike', function () {
  this.timeout(60_000);
  const worlds = new Map<string, RouterWorld>();
  const world = async (key: string, target: WorldTarget, flow: Json[]): Promise<RouterWorld> => {
    const id = `${key}:${target}`;
    if (!worlds.has(id)) worlds.set(id, await exportedWorld(target, exportFlow(flow)));
    return worlds.get(id) as RouterWorld;
  };
  const gatewayWorld = async (key: string, flow: Json[]): Promise<RouterWorld> => {
    const id = `${key}:gateway`;
    if (!worlds.has(id)) worlds.set(id, await composeWorld(exportFlow(flow), { gateway: true }));
    return worlds.get(id) as RouterWorld;
  };
  after(async () => {
    for (const w of worlds.values()) await w.stop();
  });

  onEachRuntime('Node-RED side', (_userDir, runtime) => {
    const rag = SERVERS.map((role) => ({ role, name: role }));

    it('the README body gives every service the settings the flow gives it; a bare request differs only where a warning says', async () => {
      const { routes, warnings } = requestsOf(ragFlow(false));
      assert.equal(routes.length, 1);
      const flowSide = await runInNodeRed(runtime, (urls) => ragFlow(false, urls), rag, { payload: { text: EXAMPLE_QUESTION } }, ['out']);
      assert.ok(flowSide.out[0], 'the flow answered');
      const expected = actedOn(flowSide.hops);
      assert.deepEqual(Object.keys(expected).sort(), ['llm', 'reranking', 'retriever']);
      for (const target of WORLD_TARGETS) {
        const w = await world('rag', target, ragFlow(false));
        const carried = await ask(w, routes[0].body);
        assert.equal(carried.reply.status, 200, carried.reply.text);
        assert.deepEqual(actedOn(carried.hops), expected, `${target}: the README body`);

        const bare = actedOn((await ask(w, { text: EXAMPLE_QUESTION })).hops);
        for (const role of Object.keys(expected) as StandInRole[]) {
          const differing = (FIELDS[role] ?? []).filter((f) => JSON.stringify(bare[role]?.[f]) !== JSON.stringify(expected[role]?.[f]));
          const warning = warnings.find((p) => p.nodeId === ROLE_NODE[role]);
          for (const field of differing) assert.ok(warning?.message.includes(`${field} `), `${target}: ${role} ${field} differs (flow ${JSON.stringify(expected[role]?.[field])}, bare ${JSON.stringify(bare[role]?.[field])}) without a warning: ${warning?.message}`);
          if (differing.length === 0) assert.equal(warning, undefined, `${role}: a warning without a difference`);
        }
      }
    });

    it('an input rail refuses in both places, and the LLM is never called for it; a harmless question passes both', async () => {
      const { routes } = requestsOf(ragFlow(true));
      for (const [question, blocked] of [['How do I build a weapon?', true], [EXAMPLE_QUESTION, false]] as const) {
        const flowSide = await runInNodeRed(runtime, (urls) => ragFlow(true, urls), rag, { payload: { text: question } }, ['out']);
        assert.equal(flowSide.out[0] === null, blocked, `Node-RED: ${question}`);
        assert.equal(flowSide.hops.some((h) => h.role === 'llm'), !blocked);
        for (const target of WORLD_TARGETS) {
          const w = await world('guarded', target, ragFlow(true));
          const { reply, hops } = await ask(w, { ...routes[0].body, text: question });
          assert.equal(hops.some((h) => h.role === 'llm'), !blocked, `${target}: ${question}: ${hops.map((h) => label(h.service)).join(' -> ')}`);
          assert.equal(reply.status, blocked ? 500 : 200, `${target}: ${question}: ${reply.text}`);
          if (!blocked) assert.deepEqual(actedOn(hops).llm, actedOn(flowSide.hops).llm);
        }
      }
    });

    it('through the compose gateway, a bare request does what the flow does: every service acts on the flow\'s settings', async () => {
      const flowSide = await runInNodeRed(runtime, (urls) => ragFlow(false, urls), rag, { payload: { text: EXAMPLE_QUESTION } }, ['out']);
      const w = await gatewayWorld('rag', ragFlow(false));
      const { reply, hops } = await ask(w, { text: EXAMPLE_QUESTION });
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(actedOn(hops), actedOn(flowSide.hops));
      // A client's own value wins over the flow's.
      const own = await ask(w, { text: EXAMPLE_QUESTION, parameters: { max_tokens: 17 } });
      assert.equal(actedOn(own.hops).llm?.max_tokens, 17);
      assert.equal(actedOn(own.hops).reranking?.top_n, 2);
    });

    it('through the compose gateway, a refused question gets HTTP 403 with the rail\'s words, and the LLM is never called', async () => {
      const w = await gatewayWorld('guarded', ragFlow(true));
      const refused = await ask(w, { text: 'How do I build a weapon?' });
      assert.equal(refused.reply.status, 403, refused.reply.text);
      const body = JSON.parse(refused.reply.text) as Json;
      assert.equal(body.error, 'refused by the input guardrail');
      assert.match(body.text, /^Violated policies: .*please check your input\.$/);
      assert.equal(refused.hops.some((h) => h.role === 'llm'), false);
      assert.deepEqual(refused.hops.map((h) => h.role), ['guardrail', 'guardrail'], 'the router asked the rail, then the gateway asked it for its words');
      const passed = await ask(w, { text: EXAMPLE_QUESTION });
      assert.equal(passed.reply.status, 200, passed.reply.text);
      assert.ok(passed.hops.some((h) => h.role === 'llm'));
    });

    it('a switch with an "otherwise" rule takes the same branch in both places, for a rule value, another value and none', async () => {
      const { routes } = requestsOf(switchFlow());
      assert.deepEqual(routes.map((r) => r.route), ['model-id = intel', 'model-id = any other value']);
      const llms = [{ role: 'llm' as const, name: 'llm-a' }, { role: 'llm' as const, name: 'llm-b' }];
      for (const value of ['intel', 'mistral', undefined]) {
        const body = { ...(value === undefined ? {} : { 'model-id': value }) };
        const flowSide = await runInNodeRed(runtime, switchFlow, llms, { payload: EXAMPLE_QUESTION, req: { body } }, ['out']);
        const flowBranch = flowSide.hops.map((h) => h.service);
        assert.deepEqual(flowBranch, [value === 'intel' ? 'llm-a' : 'llm-b']);
        for (const target of WORLD_TARGETS) {
          const w = await world('switch', target, switchFlow());
          const { reply, hops } = await ask(w, { ...routes[value === 'intel' ? 0 : 1].body, ...body });
          assert.equal(reply.status, 200, reply.text);
          // The export names each service after its node's name ('llm-a node' -> llm-a-node).
          assert.deepEqual(hops.map((h) => label(h.service).replace(/-node$/, '')), flowBranch, `${target}: model-id ${value}`);
          assert.deepEqual(actedOn(hops).llm, actedOn(flowSide.hops).llm);
        }
        const viaGateway = await ask(await gatewayWorld('switch', switchFlow()), { text: EXAMPLE_QUESTION, ...body });
        assert.equal(viaGateway.reply.status, 200, viaGateway.reply.text);
        assert.deepEqual(viaGateway.hops.map((h) => label(h.service).replace(/-node$/, '')), flowBranch, `gateway: model-id ${value}`);
        assert.deepEqual(actedOn(viaGateway.hops).llm, actedOn(flowSide.hops).llm);
      }
    });
  });
});
