/**
 * The Helm chart routes exactly as the compose export does: the graph of the chart's rendered
 * ConfigMap (real `helm template`), run by OPEA's real GMC router (GenAIInfra v1.1) with the OPEA 1.1
 * stand-ins playing the images of the rendered Deployments, and the gateway from the rendered
 * ConfigMap in front, against the compose project's own world: the same requests make the same hops
 * and get the same answers.
 */
import assert from 'node:assert/strict';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { renderChart, writeChart } from '../support/helm';
import { switchAndEnsembleFlow } from '../support/helm-flows';
import { composeWorld, repositoryOf, rolesByRepository, servicesOf } from '../support/peers/exported-worlds';
import { routerBinary } from '../support/peers/router-binary';
import { RouterWorld, startRouterWorld } from '../support/peers/router-world';
import { exampleFlow } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const QUESTION = "What was Nike's revenue?";

function exportBoth(flow: unknown): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow);
  const exportProblems = new ProblemList();
  const bundle = problems.empty ? exportPipeline(pipeline, ['helm', 'compose'], { platform: 'xeon' }, exportProblems) : null;
  if (!bundle) throw new Error([...problems.items, ...exportProblems.items].map(formatProblem).join('\n'));
  return bundle;
}

/** The chart's world: everything from what `helm template` rendered, nothing from the compose files. */
async function helmWorld(bundle: Record<string, string>): Promise<RouterWorld> {
  const chart = writeChart(Object.fromEntries(Object.entries(bundle).filter(([file]) => file.startsWith('helm/'))));
  try {
    const docs = await renderChart(chart);
    const configMap = (name: string) => docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name) as Json;
    const graph = JSON.parse(configMap('router-graph').data['graph.json']);
    const images = new Map(docs.filter((d) => d.kind === 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image as string]));
    const roles = rolesByRepository();
    const services = servicesOf(graph, (_, host) => {
      const image = images.get(host);
      return image ? roles.get(repositoryOf(image)) : undefined;
    });
    const files = configMap('gateway-files').data;
    return await startRouterWorld({ graph, services, gateway: { script: files['gateway.js'], routes: files['routes.json'] } });
  } finally {
    chart.remove();
  }
}

/** The stand-ins give each document a random id (as the services do; the log may cut one short): the same answer whatever its id. */
const withoutIds = (text: string) => text.replace(/("id": ?")[0-9a-f]+/g, '$1<id>');

/** One request per route of the gateway: its switch choices (a request no switch rule matches crashes GMC 1.1's router). */
function requestsOf(bundle: Record<string, string>): Json[] {
  const routes = JSON.parse(bundle['compose/gateway/routes.json']).routes as { match: { key: string; equals: string }[] }[];
  return routes.map((r) => ({ text: QUESTION, ...Object.fromEntries(r.match.map((m) => [m.key, m.equals])) }));
}

/** Where two texts first differ, for the failure message. */
function firstDifference(a: string, b: string): string {
  const i = [...a].findIndex((ch, k) => ch !== b[k]);
  return `at ${i}:\n${a.slice(Math.max(0, i - 120), i + 120)}\n---\n${b.slice(Math.max(0, i - 120), i + 120)}`;
}

const FLOWS: [string, () => unknown][] = [
  ['flows/chatqna.json', () => exampleFlow('chatqna.json')],
  ['flows/chatqna-switch.json', () => exampleFlow('chatqna-switch.json')],
  ['flows/chatqna-guardrails.json', () => exampleFlow('chatqna-guardrails.json')],
  ['flows/retriever-ensemble.json', () => exampleFlow('retriever-ensemble.json')],
  ['a flow with a switch and an ensemble', switchAndEnsembleFlow],
];

describe('the Helm chart routes as the compose export does (OPEA GMC router v1.1)', function () {
  this.timeout(120_000);
  before(async () => {
    await routerBinary();
  });

  for (const [title, flow] of FLOWS) {
    it(`${title}: the same hops, statuses and answers for every route`, async () => {
      const bundle = exportBoth(flow());
      const worlds: RouterWorld[] = [];
      try {
        worlds.push(await composeWorld(bundle, { gateway: true }));
        worlds.push(await helmWorld(bundle));
        const [compose, helm] = worlds;
        for (const body of requestsOf(bundle)) {
          const seen = [];
          for (const world of [compose, helm]) {
            const before = world.log().length;
            const reply = await world.post('/', body);
            // An ensemble calls its branches at once: their hops come in either order.
            const hops = world.log().slice(before).map((h) => JSON.stringify({ service: h.service, path: h.path, parsedAs: h.parsed_as, status: h.status, request: withoutIds(h.request) }));
            seen.push({ status: reply.status, text: withoutIds(reply.text), hops: hops.sort() });
          }
          assert.ok(seen[0].hops.length > 0, `compose called no service for ${JSON.stringify(body)}`);
          const [composeSaw, helmSaw] = seen.map((x) => JSON.stringify(x, null, 1));
          assert.equal(helmSaw, composeSaw, `${JSON.stringify(body)}: ${firstDifference(composeSaw, helmSaw)}`);
        }
      } finally {
        for (const world of worlds) await world.stop();
      }
    });
  }
});
