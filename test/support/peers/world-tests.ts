/** Router worlds in mocha suites, and reading their hops: what each service got, and what the client got back. */
import assert from 'node:assert/strict';
import { exportedWorld, exportFlow, WORLD_TARGETS } from './exported-worlds';
import { RouterReply, RouterWorld } from './router-world';
import { HopRecord, streamedEvents } from './stand-ins';

/** A service by its first DNS label: compose calls it `llm`, GMC `llm.<namespace>.svc.cluster.local`. */
export const label = (host: string): string => host.split('.')[0];

export const hopsOf = (records: HopRecord[]) => records.map((r) => ({ service: label(r.service), parsedAs: r.parsed_as, status: r.status }));

/** POSTs a body to the router's / and returns its reply with the hops it made. */
export async function ask(world: RouterWorld, body: unknown): Promise<{ reply: RouterReply; hops: HopRecord[] }> {
  const before = world.log().length;
  const reply = await world.post('/', body);
  return { reply, hops: world.log().slice(before) };
}

/** Each hop got the previous hop's answer as it was (`data: $response`, no client parameters to merge). */
export function assertPassedOn(hops: HopRecord[]): void {
  for (let i = 1; i < hops.length; i++) assert.equal(hops[i].request, hops[i - 1].response, `${hops[i].service} got what ${hops[i - 1].service} answered`);
}

/** The LLM stand-in's streamed answer to `question`, as the client got it through the router. */
export function assertStreamedAnswer(reply: RouterReply, llm: HopRecord, question: string): void {
  assert.equal(reply.status, 200);
  assert.equal(llm.response_content_type, 'text/event-stream');
  // The router labels whatever it passes on as JSON (cmd/router/main.go l.577).
  assert.equal(reply.headers['content-type'], 'application/json');
  const events = streamedEvents(reply.text);
  assert.equal(events[events.length - 1], '[DONE]');
  // The stand-in streams the words of its answer (without the spaces between them).
  assert.ok(events.slice(0, -1).join(' ').startsWith(`[${llm.service}] answer to '${question}'`), reply.text);
}

/** One describe per target, each with its own router world for the flow's export. */
export function describeWorlds(title: string, flow: () => unknown, body: (world: () => RouterWorld) => void): void {
  for (const target of WORLD_TARGETS) {
    describe(`${title} exported to ${target}`, function () {
      this.timeout(30_000);
      let world: RouterWorld | undefined;
      before(async () => {
        world = await exportedWorld(target, exportFlow(flow()));
      });
      after(async () => {
        await world?.stop();
      });
      body(() => world as RouterWorld);
    });
  }
}
