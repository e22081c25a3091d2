/**
 * The compose project's gateway: a service in front of GMC's router that fills in the flow's settings
 * a request leaves out and turns an input rail's refusal into an answer that says so (see
 * gateway/gateway.js). Its script is shipped with this package and copied into the bundle as it is; its
 * routes are data (JSON) built from the request bodies of router-requests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY, ROUTER } from '../../core/catalog';
import { RAIL_PASSED } from '../../core/gmc-conditions';
import { GmcStep, routerNodes } from '../../core/gmc-shape';
import { DeployedRequests } from '../router-requests';

export const GATEWAY_SERVICE = 'gateway';
const SCRIPT = path.join(__dirname, '..', '..', '..', 'exporters', 'compose', 'gateway', 'gateway.js');
const QUESTION_FIELDS = ['text', 'query'];

/** URLs of the input rails of a router graph: the steps whose next executed step runs only when they passed. */
export function inputRailUrls(graph: Record<string, unknown>): string[] {
  const urls: string[] = [];
  for (const node of Object.values(routerNodes(graph))) {
    const executed = (node.steps ?? []).filter((s: GmcStep) => !s.internalService?.isDownstreamService);
    executed.forEach((step, i) => {
      const rail = executed[i - 1];
      if (step.condition === RAIL_PASSED && rail?.serviceUrl) urls.push(rail.serviceUrl);
    });
  }
  return urls;
}

/** The gateway's routes: what each route's body adds to a request that leaves it out. */
function routes(requests: DeployedRequests): unknown[] {
  return requests.routes.map((r) => {
    const switchKeys = new Set(r.match.map((m) => m.key));
    const fill = Object.fromEntries(Object.entries(r.body).filter(([k]) => !QUESTION_FIELDS.includes(k) && k !== 'parameters' && !switchKeys.has(k)));
    return { match: r.match, question: QUESTION_FIELDS.filter((k) => k in r.body), fill, ...(r.body.parameters ? { parameters: r.body.parameters } : {}) };
  });
}

export function gatewayFiles(requests: DeployedRequests, graph: Record<string, unknown>): Record<string, string> {
  const config = { port: GATEWAY.port, router: `http://router-service:${ROUTER.port}`, rails: inputRailUrls(graph), routes: routes(requests) };
  return {
    'compose/gateway/gateway.js': fs.readFileSync(SCRIPT, 'utf8'),
    'compose/gateway/routes.json': `${JSON.stringify(config, null, 2)}\n`,
  };
}

export function gatewayService(): Record<string, unknown> {
  return {
    image: `${GATEWAY.image.repository}:${GATEWAY.image.tag}`,
    command: ['node', '/gateway/gateway.js', '/gateway/routes.json'],
    volumes: ['./gateway:/gateway:ro'],
    depends_on: { 'router-service': { condition: 'service_started' } },
    healthcheck: {
      test: ['CMD', 'node', '-e', `require('http').get('http://localhost:${GATEWAY.port}/', () => process.exit(0)).on('error', () => process.exit(1))`],
      interval: '10s',
      timeout: '5s',
      retries: 10,
    },
    ports: [`\${ROUTER_PORT:-${ROUTER.port}}:${GATEWAY.port}`],
    restart: 'unless-stopped',
  };
}
