/**
 * Traces of the example ChatQnA pipeline (examples/chatqna.json's query tab: embedding -> retriever ->
 * rerank -> llm, their opea-server nodes pointed at the loopback protocol server) with
 * opeaTelemetry.tracing set: a loopback OTLP/HTTP receiver (the exporter's JSON encoding) must get one
 * trace per message with one span per node, and each request the protocol server saw must carry the
 * traceparent of the span of the node that sent it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { flushTracing } from '../../core/telemetry/tracing';
import { startTelemetry } from '../../nodes/shared/telemetry';
import { Red } from '../../nodes/shared/red';
import { closeServer, listenLoopback } from '../support/loopback';
import { sampleSum } from '../support/prometheus-text';
import { ProtocolServer } from '../support/protocol-server';
import { exampleFlow, REPO_ROOT } from '../support/reference';
import { runCli } from '../support/run-cli';
import { helper, nextError, nextMessage, onEachRuntime, packNodes } from '../support/runtimes';

const nodes = packNodes();
const QUERY_TAB = 'c0a1e5f0a0000001';
const IDS = { embedding: 'c0a1e5f0a0000003', retriever: 'c0a1e5f0a0000004', rerank: 'c0a1e5f0a0000005', llm: 'c0a1e5f0a0000006' };
const PIPELINE = Object.values(IDS);
/** Which node sends each protocol-server path of this pipeline. */
const SENDER: Record<string, string> = { '/embed': IDS.embedding, '/v1/retrieval': IDS.retriever, '/rerank': IDS.rerank, '/generate_stream': IDS.llm };

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
  events?: { name: string }[];
}
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  statusCode: number;
  events: string[];
  serviceName: string;
}

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(valueOf);
  return undefined;
}

/** A loopback OTLP/HTTP traces receiver: decodes each JSON export request into spans. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  contentTypes = new Set<string>();
  private readonly server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      this.contentTypes.add(String(req.headers['content-type']));
      if (req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) {
        const serviceName = String(valueOf(rs.resource.attributes.find((a) => a.key === 'service.name')?.value ?? {}));
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            this.spans.push({
              traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name,
              attributes: Object.fromEntries(s.attributes.map((a) => [a.key, valueOf(a.value)])),
              statusCode: s.status?.code ?? 0, events: (s.events ?? []).map((e) => e.name), serviceName,
            });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  url = '';

  async start(): Promise<void> {
    this.url = `${await listenLoopback(this.server)}/v1/traces`;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Flushes the exporter and waits until `count` spans have arrived (the export is asynchronous). */
  async waitFor(count: number, ms = 20_000): Promise<ReceivedSpan[]> {
    const until = Date.now() + ms;
    while (this.spans.length < count) {
      if (Date.now() > until) assert.fail(`the OTLP receiver got ${this.spans.length} spans within ${ms / 1000} s, expected ${count}`);
      await flushTracing();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.spans;
  }
}

/** The query tab of the example, its servers at `url`, the LLM's first output to a helper node. */
function chatqnaFlow(url: string): unknown[] {
  const example = exampleFlow('chatqna.json') as Record<string, unknown>[];
  const flow = example
    .filter((n) => (n.z === QUERY_TAB && PIPELINE.includes(String(n.id))) || n.type === 'opea-server' || n.id === QUERY_TAB)
    .map((n) => (n.type === 'opea-server' ? { ...n, baseUrl: url, timeout: 5, retries: 0 } : n))
    .map((n) => (n.id === IDS.llm ? { ...n, wires: [['answer'], []] } : n));
  return [...flow, { id: 'answer', type: 'helper', z: QUERY_TAB }];
}

const traceIdOf = (traceparent: unknown) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(traceparent));

onEachRuntime('telemetry: traces of the example ChatQnA pipeline', (userDir) => {
  let srv: ProtocolServer;
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    srv = await ProtocolServer.start({ embeddingDimensions: 8 });
    receiver = new OtlpReceiver();
    await receiver.start();
    helper.settings({ userDir: userDir(), opeaTelemetry: { tracing: { endpoint: receiver.url, serviceName: 'chatqna-test' } } });
  });
  afterEach(async () => {
    helper.settings({ userDir: userDir() });
    startTelemetry({ settings: {} } as unknown as Red);
    await srv.close();
    await receiver.close();
  });

  it('one trace per message, one span per node, the traceparent of the sending span at every server request', async () => {
    await helper.load(nodes, chatqnaFlow(srv.url));
    const answers: Record<string, any>[] = [];
    const questions = ['What is OPEA?', 'What is TGI?', 'What does the retriever do?'];
    for (const text of questions) {
      const answered = nextMessage(helper.getNode('answer'), 10_000);
      helper.getNode(IDS.embedding).receive({ payload: { text } });
      answers.push(await answered);
    }
    const spans = await receiver.waitFor(questions.length * PIPELINE.length);
    assert.equal(spans.length, questions.length * PIPELINE.length);
    assert.ok([...receiver.contentTypes].every((t) => t.startsWith('application/json')), [...receiver.contentTypes].join());

    const traces = new Map<string, ReceivedSpan[]>();
    for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
    assert.equal(traces.size, questions.length, 'one trace per message');
    for (const [traceId, trace] of traces) {
      assert.deepEqual(trace.map((s) => s.attributes['opea.node.id']).sort(), [...PIPELINE].sort(), 'one span per node');
      const root = trace.find((s) => s.parentSpanId === undefined);
      assert.ok(root, `trace ${traceId} has a root span`);
      assert.equal(root.attributes['opea.node.id'], IDS.embedding, 'the first node is the root');
      for (const s of trace) if (s !== root) assert.equal(s.parentSpanId, root.spanId, `${s.name} is a child of the root`);
      assert.ok(trace.every((s) => s.serviceName === 'chatqna-test' && s.statusCode !== 2));
    }

    // Each answer carried its trace; the span attributes say what msg.metrics says.
    for (const msg of answers) {
      const carried = traceIdOf(msg._otel?.traceparent);
      assert.ok(carried, `msg._otel.traceparent is W3C: ${msg._otel?.traceparent}`);
      const trace = traces.get(carried[1]);
      assert.ok(trace, 'the message carries the trace id of its spans');
      const span = (id: string) => trace.find((s) => s.attributes['opea.node.id'] === id)!;
      const llm = span(IDS.llm);
      assert.equal(llm.name, 'chat Intel/neural-chat-7b-v3-3');
      assert.equal(llm.attributes['gen_ai.operation.name'], 'chat');
      assert.equal(llm.attributes['gen_ai.provider.name'], 'tgi');
      assert.equal(llm.attributes['gen_ai.request.model'], 'Intel/neural-chat-7b-v3-3');
      assert.equal(llm.attributes['gen_ai.usage.output_tokens'], msg.metrics.llm.completionTokens);
      assert.ok(msg.metrics.llm.completionTokens > 0);
      assert.equal(llm.attributes['gen_ai.response.time_to_first_chunk'], msg.metrics.llm.ttftMs / 1000);
      assert.equal(llm.attributes['opea.node.label'], 'llm');
      assert.equal(llm.attributes['server.port'], Number(new URL(srv.url).port));
      assert.equal(span(IDS.retriever).attributes['opea.documents.count'], msg.metrics.retriever.documents);
      assert.equal(span(IDS.retriever).attributes['gen_ai.operation.name'], 'retrieval');
      assert.equal(span(IDS.embedding).attributes['gen_ai.operation.name'], 'embeddings');
      assert.equal(span(IDS.embedding).attributes['gen_ai.embeddings.dimension.count'], 8);
      assert.equal(span(IDS.rerank).attributes['opea.documents.count'], msg.metrics.rerank.documents);
    }

    // Every request the model servers saw carries the traceparent of the span of the node that sent it.
    assert.equal(srv.requests.length, questions.length * PIPELINE.length);
    for (const request of srv.requests) {
      const parent = traceIdOf(request.headers.traceparent);
      assert.ok(parent, `${request.path} carries a W3C traceparent: ${String(request.headers.traceparent)}`);
      const sender = spans.find((s) => s.traceId === parent[1] && s.spanId === parent[2]);
      assert.ok(sender, `${request.path}'s traceparent names one of our spans`);
      assert.equal(sender.attributes['opea.node.id'], SENDER[request.path], `${request.path} was sent under its node's span`);
      assert.equal(sender.attributes['url.full'], `${srv.url}${request.path}`);
    }
  });

  it('with metrics on too: TTFT and tokens of the streaming LLM node, per node counts, on the admin route', async () => {
    helper.settings({ userDir: userDir(), opeaTelemetry: { tracing: { endpoint: receiver.url }, metrics: true } });
    await helper.load(nodes, chatqnaFlow(srv.url));
    const admin = (helper as unknown as { request(): { get(route: string): Promise<{ status: number; text: string }> } }).request();
    const scrape = async () => {
      const res = await admin.get('/opea/metrics');
      assert.equal(res.status, 200);
      return (name: string, labels: Record<string, string>) => sampleSum(res.text, name, labels);
    };
    const before = await scrape();
    let outputTokens = 0;
    for (const text of ['What is OPEA?', 'What is TGI?']) {
      const answered = nextMessage(helper.getNode('answer'), 10_000);
      helper.getNode(IDS.embedding).receive({ payload: { text } });
      const msg = await answered;
      assert.ok(msg.metrics.llm.ttftMs > 0);
      outputTokens += msg.metrics.llm.completionTokens;
    }
    const after = await scrape();
    const llm = { node: IDS.llm, model: 'Intel/neural-chat-7b-v3-3' };
    const delta = (name: string, labels: Record<string, string>) => after(name, labels) - before(name, labels);
    assert.equal(delta('opea_llm_time_to_first_token_seconds_count', llm), 2);
    assert.equal(delta('opea_llm_tokens_total', { ...llm, direction: 'output' }), outputTokens);
    for (const id of PIPELINE) assert.equal(delta('opea_node_requests_total', { node: id, outcome: 'ok' }), 2, id);
    assert.equal(delta('opea_node_duration_seconds_count', { node: IDS.retriever }), 2);
  });

  it("joins the trace of an http in request's traceparent header", async () => {
    await helper.load(nodes, chatqnaFlow(srv.url));
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const answered = nextMessage(helper.getNode('answer'), 10_000);
    helper.getNode(IDS.embedding).receive({ payload: { text: 'What is OPEA?' }, req: { headers: { traceparent: incoming } } });
    await answered;
    const spans = await receiver.waitFor(PIPELINE.length);
    assert.ok(spans.every((s) => s.traceId === '0af7651916cd43dd8448eb211c80319c'));
    const first = spans.find((s) => s.attributes['opea.node.id'] === IDS.embedding)!;
    assert.equal(first.parentSpanId, 'b7ad6b7169203331');
  });

  it('off (no opeaTelemetry, no OTEL_* variables): no traceparent on any request, nothing on the message, nothing exported', async () => {
    helper.settings({ userDir: userDir() });
    const otel = Object.keys(process.env).filter((k) => k.startsWith('OTEL_'));
    const saved = otel.map((k) => [k, process.env[k]] as const);
    for (const k of otel) delete process.env[k];
    try {
      await helper.load(nodes, chatqnaFlow(srv.url));
    } finally {
      for (const [k, v] of saved) process.env[k] = v;
    }
    const answered = nextMessage(helper.getNode('answer'), 10_000);
    helper.getNode(IDS.embedding).receive({ payload: { text: 'What is OPEA?' } });
    const msg = await answered;
    assert.equal(msg._otel, undefined);
    assert.equal(srv.requests.length, PIPELINE.length);
    assert.ok(srv.requests.every((r) => r.headers.traceparent === undefined));
    await flushTracing();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.spans.length, 0);
  });

  it('a failing node ends its span as an error with error.type and the exception', async () => {
    srv.fault('/generate_stream', { status: 500 });
    await helper.load(nodes, chatqnaFlow(srv.url));
    const failed = nextError(helper.getNode(IDS.llm), 10_000);
    helper.getNode(IDS.embedding).receive({ payload: { text: 'What is OPEA?' } });
    assert.match(await failed, /HTTP 500/);
    const spans = await receiver.waitFor(PIPELINE.length);
    const llm = spans.find((s) => s.attributes['opea.node.id'] === IDS.llm)!;
    assert.equal(llm.statusCode, 2, 'status ERROR');
    assert.equal(llm.attributes['error.type'], 'http_5xx');
    assert.deepEqual(llm.events, ['exception']);
    assert.ok(spans.filter((s) => s !== llm).every((s) => s.statusCode !== 2));
  });
});

describe('telemetry: opea-flow run traced through the OTEL_* variables', function () {
  this.timeout(90_000);
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = new OtlpReceiver();
    await receiver.start();
  });
  afterEach(() => receiver.close());

  it('exports the spans of a run before the process exits (the batch is flushed at stop)', async () => {
    const result = await runCli(['run', path.join(REPO_ROOT, 'flows', 'chatqna-offline.json'), '--input', '{"text": "Who developed Node-RED?"}'], {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'opea-flow-run',
    });
    assert.equal(result.code, 0, result.stderr);
    // The process has exited: whatever it exported has arrived (nothing in this process flushes it).
    const query = receiver.spans.filter((s) => s.attributes['opea.node.type'] !== 'opea-dataprep');
    const traces = new Set(query.map((s) => s.traceId));
    assert.equal(traces.size, 1, `one trace for the one question: ${JSON.stringify(query.map((s) => s.name))}`);
    assert.deepEqual(query.map((s) => s.attributes['opea.node.type']).sort(), ['opea-embedding', 'opea-llm', 'opea-rerank', 'opea-retriever']);
    assert.ok(receiver.spans.every((s) => s.serviceName === 'opea-flow-run'));
  });
});
