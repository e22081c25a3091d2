/**
 * In a real runtime, a service node whose server misbehaves ends the message in done(err) within the
 * opea-server's limits, naming the node, the server URL and the limit that fired; the connection is closed.
 */
import assert from 'node:assert/strict';
import { HostileServer } from '../support/hostile-server';
import { helper, nextError, onEachRuntime, packNodes } from '../support/runtimes';

const TAB = 'tab1';
const nodes = packNodes();

// Wide margins: what matters is that the message ends, and not long after its limit.
const SLACK_MS = 4000;

onEachRuntime('service nodes against a hostile server', () => {
  let server: HostileServer;
  beforeEach(async () => {
    server = await HostileServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  async function errorOf(stage: Record<string, unknown>, serverSettings: Record<string, unknown>, payload: unknown): Promise<{ message: string; ms: number }> {
    await helper.load(nodes, [
      { id: TAB, type: 'tab' },
      { id: 's', type: 'opea-server', name: 'hostile', baseUrl: server.url, timeout: 0.5, retries: 0, backoff: 10, headers: '', verifyTls: true, ...serverSettings },
      { z: TAB, name: '', configVersion: 2, wires: [[], []], server: 's', ...stage },
    ]);
    const node = helper.getNode(stage.id as string);
    const error = nextError(node, 20_000);
    const started = Date.now();
    node.receive({ payload });
    const message = await error;
    return { message, ms: Date.now() - started };
  }

  it('an embedding whose answer trickles forever ends at the timeout', async () => {
    server.on('/embed', { kind: 'trickle', everyMs: 20 });
    const { message, ms } = await errorOf({ id: 'emb', type: 'opea-embedding', name: 'embedder', backend: 'tei' }, {}, 'hello');
    assert.ok(message.startsWith(`embedder (emb): ${server.url}/embed: no complete answer within 500 ms (the timeout)`), message);
    assert.ok(ms < 500 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('a streamed answer of keep-alive comments only ends at the timeout between events', async () => {
    server.on('/v1/chat/completions', { kind: 'comments', everyMs: 20 });
    const { message, ms } = await errorOf({ id: 'llm', type: 'opea-llm', name: 'answerer', backend: 'vllm', model: 'm/m', streaming: true }, {}, 'question');
    assert.ok(message.startsWith(`answerer (llm): ${server.url}/v1/chat/completions: the stream stalled for 500 ms without an event (the timeout)`), message);
    assert.ok(ms < 500 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('a stream that never ends stops at the stream limit', async () => {
    server.on('/v1/chat/completions', { kind: 'events', everyMs: 10 });
    const { message, ms } = await errorOf({ id: 'llm', type: 'opea-llm', name: 'answerer', backend: 'vllm', model: 'm/m', streaming: true }, { streamTimeout: 1, timeout: 3 }, 'question');
    assert.match(message, /^answerer \(llm\): http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: the stream went on for more than 1 s \(the stream limit\)/);
    assert.ok(ms < 1000 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('an answer larger than the largest answer is refused, naming the setting', async () => {
    server.on('/v1/embeddings', { kind: 'flood', status: 200 });
    const { message } = await errorOf({ id: 'emb', type: 'opea-embedding', name: 'embedder', backend: 'openai', model: 'e/m' }, { timeout: 30, maxResponse: 1 }, 'hello');
    assert.match(message, /^embedder \(emb\): http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings: the answer is larger than 1 MiB \(the largest answer\) — raise "largest answer" of the opea-server config node/);
    await server.allClosed();
  });
});
