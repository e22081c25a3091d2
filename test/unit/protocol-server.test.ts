import assert from 'node:assert/strict';
import net from 'node:net';
import axios, { type AxiosResponse } from 'axios';
import { ProtocolServer, fakeEmbedding, type ProtocolServerOptions } from '../support/protocol-server';

const TOKENS = ['Hello', ',', ' wörld', ' 🌍', '!'];
const HEX32 = /^[0-9a-f]{32}$/;

function cos(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => ((dot += x * b[i]), (na += x * x), (nb += b[i] * b[i])));
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** POST without throwing on HTTP errors. */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<AxiosResponse> {
  return axios.post(url, body, { validateStatus: () => true, headers });
}

function get(url: string): Promise<AxiosResponse> {
  return axios.get(url, { validateStatus: () => true });
}

/** POST and return the raw response bytes (for SSE). */
async function postRaw(url: string, body: unknown): Promise<{ status: number; headers: AxiosResponse['headers']; raw: Buffer }> {
  const res = await axios.post<ArrayBuffer>(url, body, { responseType: 'arraybuffer', validateStatus: () => true });
  return { status: res.status, headers: res.headers, raw: Buffer.from(res.data) };
}

/** Splits a complete SSE byte stream into the payloads of its `data:` events. */
function sseData(raw: Buffer): string[] {
  const text = raw.toString('utf8');
  assert.ok(text.endsWith('\n\n'), 'stream ends on an event boundary');
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((event) => {
      assert.match(event, /^data:/, `event starts with data: ${JSON.stringify(event)}`);
      return event.replace(/^data: ?/, '');
    });
}

async function withServer(options: ProtocolServerOptions, fn: (s: ProtocolServer) => Promise<void>): Promise<void> {
  const s = await ProtocolServer.start(options);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe('protocol server (loopback model servers)', function () {
  this.timeout(2000);
  let server: ProtocolServer;

  beforeEach(async () => {
    server = await ProtocolServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  describe('fakeEmbedding', () => {
    it('is deterministic, case-insensitive, L2-normalised and non-zero for any non-empty text', () => {
      const a = fakeEmbedding('Hello World', 8);
      assert.deepEqual(a, fakeEmbedding('hello world', 8));
      assert.equal(a.length, 8);
      for (const text of ['x', '!', ' ', 'wörld 🌍', 'Hello World']) {
        const v = fakeEmbedding(text, 16);
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        assert.ok(Math.abs(norm - 1) < 1e-12, `${JSON.stringify(text)} has norm ${norm}`);
      }
      assert.notDeepEqual(fakeEmbedding('redis', 64), fakeEmbedding('paris', 64));
      assert.throws(() => fakeEmbedding('x', 0), RangeError);
    });
  });

  describe('binding and routing', () => {
    it('listens on 127.0.0.1 with an ephemeral port', () => {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(Number(new URL(server.url).port), 0);
    });

    it('answers 404 for unknown paths, 405 for wrong methods, 400 for bad JSON and 422 for missing fields', async () => {
      const nf = await get(`${server.url}/nope`);
      assert.equal(nf.status, 404);
      assert.deepEqual(nf.data, { error: 'not found' });
      const wm = await get(`${server.url}/embed`);
      assert.equal(wm.status, 405);
      assert.equal(wm.headers.allow, 'POST');
      const bad = await post(`${server.url}/embed`, Buffer.from('{"inputs": '), { 'content-type': 'application/json' });
      assert.equal(bad.status, 400);
      assert.equal(typeof bad.data.error, 'string');
      const missing = await post(`${server.url}/embed`, { truncate: true });
      assert.equal(missing.status, 422);
      assert.match(missing.data.detail, /inputs/);
      for (const [path, body] of [
        ['/rerank', { query: 'q' }],
        ['/v1/embeddings', {}],
        ['/v1/retrieval', { text: 'q' }],
        ['/v1/reranking', { retrieved_docs: [] }],
        ['/v1/chat/completions', { model: 'm' }],
        ['/generate', { parameters: {} }],
      ] as const) {
        const r = await post(server.url + path, body);
        assert.equal(r.status, 422, path);
        assert.equal(typeof r.data.detail, 'string', path);
      }
    });

    it('records method, path, headers and parsed body of every request', async () => {
      await post(`${server.url}/embed?x=1`, { inputs: 'hi' }, { authorization: 'Bearer abc' });
      assert.equal(server.requests.length, 1);
      const [r] = server.requests;
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/embed');
      assert.equal(r.headers.authorization, 'Bearer abc');
      assert.deepEqual(r.body, { inputs: 'hi' });
    });
  });

  describe('TEI', () => {
    it('POST /embed returns one vector per input, 2-D even for a single string', async () => {
      const one = await post(`${server.url}/embed`, { inputs: 'What is OPEA?' });
      assert.equal(one.status, 200);
      assert.deepEqual(one.data, [fakeEmbedding('What is OPEA?', 8)]);
      const many = await post(`${server.url}/embed`, { inputs: ['a', 'b c'], truncate: true, normalize: true });
      assert.deepEqual(many.data, [fakeEmbedding('a', 8), fakeEmbedding('b c', 8)]);
    });

    it('GET /health is 200 with an empty body; GET /info names the model', async () => {
      const health = await axios.get(`${server.url}/health`, { responseType: 'text' });
      assert.equal(health.status, 200);
      assert.equal(health.data, '');
      const info = await get(`${server.url}/info`);
      assert.deepEqual(info.data, { model_id: 'fake/tei' });
    });

    it('POST /rerank returns {index, score} sorted by (cos+1)/2 descending', async () => {
      const query = 'capital of France';
      const texts = ['Redis stores keys', 'Paris is the capital of France', 'boil the pasta'];
      const r = await post(`${server.url}/rerank`, { query, texts, raw_scores: false });
      assert.equal(r.status, 200);
      const expected = texts
        .map((t, index) => ({ index, score: (cos(fakeEmbedding(query, 8), fakeEmbedding(t, 8)) + 1) / 2 }))
        .sort((a, b) => b.score - a.score || a.index - b.index);
      assert.equal(r.data.length, 3);
      r.data.forEach((item: { index: number; score: number }, i: number) => {
        assert.deepEqual(Object.keys(item).sort(), ['index', 'score']);
        assert.equal(item.index, expected[i].index);
        assert.ok(Math.abs(item.score - expected[i].score) < 1e-12);
        assert.ok(item.score >= 0 && item.score <= 1);
      });
      assert.equal(r.data[0].index, 1, 'identical words rank first');
    });
  });

  describe('OpenAI / OPEA embeddings', () => {
    it('POST /v1/embeddings returns the OpenAI list shape with word-count usage', async () => {
      const r = await post(`${server.url}/v1/embeddings`, { input: ['one two', 'three'] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.data, {
        object: 'list',
        model: 'fake-embed',
        data: [
          { object: 'embedding', index: 0, embedding: fakeEmbedding('one two', 8) },
          { object: 'embedding', index: 1, embedding: fakeEmbedding('three', 8) },
        ],
        usage: { prompt_tokens: 3, total_tokens: 3 },
      });
      const named = await post(`${server.url}/v1/embeddings`, { input: 'x', model: 'BAAI/bge-base-en-v1.5' });
      assert.equal(named.data.model, 'BAAI/bge-base-en-v1.5');
      assert.equal(named.data.data.length, 1);
    });
  });

  describe('OPEA retriever and reranking', () => {
    it('POST /v1/retrieval returns the k nearest documents with metadata in a parallel list', async () => {
      const query = 'Kubernetes restarts pods';
      const embedding = fakeEmbedding(query, 8);
      const r = await post(`${server.url}/v1/retrieval`, { text: query, embedding, search_type: 'similarity', k: 3 });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.data).sort(), ['id', 'initial_query', 'metadata', 'retrieved_docs', 'top_n']);
      assert.match(r.data.id, HEX32);
      assert.equal(r.data.initial_query, query);
      assert.equal(r.data.top_n, 1);
      const expected = server.documents
        .map((d, i) => ({ d, i, s: cos(fakeEmbedding(d.text, 8), embedding) }))
        .sort((a, b) => b.s - a.s || a.i - b.i)
        .slice(0, 3);
      assert.equal(r.data.retrieved_docs.length, 3);
      r.data.retrieved_docs.forEach((doc: { id: string; text: string; downstream_black_list: unknown[] }, i: number) => {
        assert.match(doc.id, HEX32);
        assert.deepEqual(doc.downstream_black_list, []);
        assert.equal(doc.text, expected[i].d.text);
        assert.equal('metadata' in doc, false);
      });
      assert.deepEqual(
        r.data.metadata,
        expected.map((e) => e.d.metadata),
      );
    });

    it('POST /v1/retrieval answers 422 when the embedding has the wrong length', async () => {
      const r = await post(`${server.url}/v1/retrieval`, { text: 'q', embedding: [0.1, 0.2] });
      assert.equal(r.status, 422);
      assert.match(r.data.detail, /dimensions/);
    });

    it('POST /v1/reranking returns a GenAIComps v1.5 LLMParamsDoc with the top_n documents best first', async () => {
      const docs = ['boil the pasta', 'Paris is the capital of France', 'Redis is a store', 'France and Paris'];
      const query = 'capital of France';
      const r = await post(`${server.url}/v1/reranking`, { retrieved_docs: docs.map((text) => ({ text })), initial_query: query, top_n: 2 });
      assert.equal(r.status, 200);
      const { id, documents, ...rest } = r.data;
      assert.match(id, /^[0-9a-f]+$/);
      assert.deepEqual(rest, {
        model: null,
        query,
        max_tokens: 1024,
        max_new_tokens: 1024,
        top_k: 10,
        top_p: 0.95,
        typical_p: 0.95,
        temperature: 0.01,
        frequency_penalty: 0,
        presence_penalty: 0,
        repetition_penalty: 1.03,
        stream: true,
        language: 'auto',
        input_guardrail_params: null,
        output_guardrail_params: null,
        chat_template: null,
      });
      const best = docs
        .map((t, i) => ({ t, i, s: cos(fakeEmbedding(query, 8), fakeEmbedding(t, 8)) }))
        .sort((a, b) => b.s - a.s || a.i - b.i)
        .slice(0, 2)
        .map((x) => x.t);
      assert.deepEqual(documents, best);
      const dflt = await post(`${server.url}/v1/reranking`, { retrieved_docs: docs.map((text) => ({ text })), initial_query: query });
      assert.equal(dflt.data.documents.length, 1, 'top_n defaults to 1');
    });
  });

  describe('chat completions', () => {
    it('OpenAI non-stream returns chat.completion with usage', async () => {
      const r = await post(`${server.url}/v1/chat/completions`, {
        model: 'Intel/neural-chat-7b',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'What is OPEA?' },
        ],
      });
      assert.equal(r.status, 200);
      assert.match(r.data.id, /^chatcmpl-/);
      assert.equal(r.data.object, 'chat.completion');
      assert.ok(Number.isInteger(r.data.created));
      assert.equal(r.data.model, 'Intel/neural-chat-7b');
      assert.equal(r.data.choices.length, 1);
      assert.equal(r.data.choices[0].index, 0);
      assert.deepEqual(r.data.choices[0].message, { role: 'assistant', content: TOKENS.join('') });
      assert.equal(r.data.choices[0].finish_reason, 'stop');
      assert.deepEqual(r.data.usage, { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
      assert.equal(server.requests[0].prompt, 'be brief\nWhat is OPEA?');
    });

    it('OpenAI non-stream honours max_tokens', async () => {
      const r = await post(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      assert.equal(r.data.choices[0].message.content, 'Hello,');
      assert.equal(r.data.choices[0].finish_reason, 'length');
      assert.deepEqual(r.data.usage, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    });

    it('OpenAI stream: role chunk, one chunk per token, finish chunk, [DONE]; no usage chunk by default', async () => {
      const { status, headers, raw } = await postRaw(`${server.url}/v1/chat/completions`, {
        model: 'm',
        stream: true,
        messages: [{ role: 'user', content: 'hi there' }],
      });
      assert.equal(status, 200);
      assert.match(String(headers['content-type']), /^text\/event-stream/);
      assert.match(raw.toString('utf8'), /^data: \{/, 'sseSpace defaults to true');
      const data = sseData(raw);
      assert.equal(data[data.length - 1], '[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      assert.equal(chunks.length, TOKENS.length + 2);
      for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.equal(c.id, chunks[0].id);
        assert.equal(c.model, 'm');
        assert.equal('usage' in c, false);
      }
      assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
      assert.deepEqual(
        chunks.slice(1, -1).map((c) => c.choices[0].delta.content),
        TOKENS,
      );
      assert.ok(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
      assert.deepEqual(chunks[chunks.length - 1].choices[0].delta, {});
      assert.equal(chunks[chunks.length - 1].choices[0].finish_reason, 'stop');
    });

    it('OpenAI stream with stream_options.include_usage adds a choices:[] usage chunk before [DONE]', async () => {
      const { raw } = await postRaw(`${server.url}/v1/chat/completions`, {
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'one two three' }],
      });
      const data = sseData(raw);
      assert.equal(data[data.length - 1], '[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      assert.equal(chunks.length, TOKENS.length + 3);
      const usageChunk = chunks[chunks.length - 1];
      assert.deepEqual(usageChunk.choices, []);
      assert.deepEqual(usageChunk.usage, { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
      assert.equal(chunks[chunks.length - 2].choices[0].finish_reason, 'stop');
      const off = await postRaw(`${server.url}/v1/chat/completions`, {
        stream: true,
        stream_options: { include_usage: false },
        messages: [{ role: 'user', content: 'x' }],
      });
      assert.equal(sseData(off.raw).length, TOKENS.length + 3, 'role + tokens + finish + [DONE]');
    });

    it('LLMParamsDoc streams text_completion events by default and records query + documents as the prompt', async () => {
      const { status, raw } = await postRaw(`${server.url}/v1/chat/completions`, {
        query: 'What is OPEA?',
        documents: ['OPEA is a platform.'],
        max_tokens: 1024,
      });
      assert.equal(status, 200);
      const data = sseData(raw);
      assert.equal(data[data.length - 1], '[DONE]');
      const events = data.slice(0, -1).map((d) => JSON.parse(d));
      assert.equal(events.length, TOKENS.length + 1);
      for (const e of events) {
        assert.equal(e.object, 'text_completion');
        assert.match(e.id, /^cmpl-/);
        assert.equal(e.choices.length, 1);
        assert.equal(e.choices[0].logprobs, null);
      }
      assert.deepEqual(
        events.slice(0, -1).map((e) => e.choices[0].text),
        TOKENS,
      );
      assert.ok(events.slice(0, -1).every((e) => e.choices[0].finish_reason === null));
      assert.equal(events[events.length - 1].choices[0].text, '');
      assert.equal(events[events.length - 1].choices[0].finish_reason, 'stop');
      const prompt = server.requests[0].prompt ?? '';
      assert.ok(prompt.includes('What is OPEA?') && prompt.includes('OPEA is a platform.'), prompt);
    });

    it('LLMParamsDoc with stream:false returns a text_completion', async () => {
      const r = await post(`${server.url}/v1/chat/completions`, { query: 'hi', stream: false });
      assert.equal(r.status, 200);
      assert.match(r.data.id, /^cmpl-/);
      assert.equal(r.data.object, 'text_completion');
      assert.ok(Number.isInteger(r.data.created));
      assert.deepEqual(r.data.choices, [{ index: 0, text: TOKENS.join(''), finish_reason: 'stop', logprobs: null }]);
      assert.deepEqual(r.data.usage, { prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 });
    });
  });

  describe('TGI', () => {
    it('POST /generate returns generated_text, honouring max_new_tokens', async () => {
      const r = await post(`${server.url}/generate`, { inputs: 'Say hello' });
      assert.deepEqual(r.data, { generated_text: TOKENS.join('') });
      const short = await post(`${server.url}/generate`, { inputs: 'Say hello', parameters: { max_new_tokens: 3 } });
      assert.deepEqual(short.data, { generated_text: 'Hello, wörld' });
      assert.equal(server.requests[0].prompt, 'Say hello');
    });

    it('POST /generate_stream sends one token event each, details on the last one and no [DONE]', async () => {
      const { status, headers, raw } = await postRaw(`${server.url}/generate_stream`, { inputs: 'x' });
      assert.equal(status, 200);
      assert.match(String(headers['content-type']), /^text\/event-stream/);
      const text = raw.toString('utf8');
      assert.ok(!text.includes('[DONE]'));
      assert.match(text, /^data:\{/, 'TGI sends data: without a space unless sseSpace is set');
      const events = sseData(raw).map((d) => JSON.parse(d));
      assert.equal(events.length, TOKENS.length);
      events.forEach((e, i) => {
        assert.equal(e.index, i);
        assert.deepEqual(e.token, { id: i, text: TOKENS[i], logprob: -0.1, special: false });
        if (i < events.length - 1) {
          assert.equal(e.generated_text, null);
          assert.equal(e.details, null);
        }
      });
      const last = events[events.length - 1];
      assert.equal(last.generated_text, TOKENS.join(''));
      assert.deepEqual(last.details, { finish_reason: 'eos_token', generated_tokens: 5 });

      const cut = await postRaw(`${server.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 2 } });
      const cutEvents = sseData(cut.raw).map((d) => JSON.parse(d));
      assert.equal(cutEvents.length, 2);
      assert.deepEqual(cutEvents[1].details, { finish_reason: 'length', generated_tokens: 2 });
      assert.equal(cutEvents[1].generated_text, 'Hello,');
    });
  });

  describe('SSE framing', () => {
    const body = { stream: true, messages: [{ role: 'user', content: 'x' }] };

    /** Offsets at which the server cut the stream into socket writes. */
    function cuts(sizes: number[], total: number): number[] {
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        total,
        'write sizes add up to the bytes received',
      );
      const out: number[] = [];
      let pos = 0;
      for (const s of sizes.slice(0, -1)) out.push((pos += s));
      return out;
    }

    it("'odd' (default) splits inside 'data:' and inside multi-byte UTF-8 characters", async () => {
      const { raw } = await postRaw(`${server.url}/v1/chat/completions`, body);
      const sizes = server.lastWriteSizes;
      assert.ok(sizes.length > 10);
      const boundaries = cuts(sizes, raw.length);
      const dataStarts: number[] = [];
      for (let at = raw.indexOf('data:'); at >= 0; at = raw.indexOf('data:', at + 1)) dataStarts.push(at);
      const splitsData = boundaries.some((b) => dataStarts.some((s) => b > s && b < s + 5));
      const splitsChar = boundaries.some((b) => (raw[b] & 0xc0) === 0x80);
      assert.ok(splitsData, 'a write boundary falls inside data:');
      assert.ok(splitsChar, 'a write boundary falls inside a multi-byte character');
      assert.ok(
        sizes.some((s) => s > 1),
        'odd pieces are not all single bytes',
      );
      // The events still decode intact once the bytes are concatenated.
      const chunks = sseData(raw).slice(0, -1).map((d) => JSON.parse(d));
      assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), TOKENS.join(''));
    });

    it("'byte' writes one byte at a time and 'whole' writes whole events", async () => {
      await withServer({ chunkBoundary: 'byte' }, async (s) => {
        const { raw } = await postRaw(`${s.url}/generate_stream`, { inputs: 'x' });
        assert.equal(s.lastWriteSizes.length, raw.length);
        assert.ok(s.lastWriteSizes.every((n) => n === 1));
        assert.equal(sseData(raw).length, TOKENS.length);
      });
      await withServer({ chunkBoundary: 'whole' }, async (s) => {
        const { raw } = await postRaw(`${s.url}/v1/chat/completions`, body);
        const data = sseData(raw);
        assert.equal(s.lastWriteSizes.length, data.length);
        let pos = 0;
        for (const size of s.lastWriteSizes) {
          const piece = raw.subarray(pos, (pos += size)).toString('utf8');
          assert.match(piece, /^data: [^\n]*\n\n$/);
        }
      });
    });

    it('sseSpace:false gives data:x on every stream, sseSpace:true gives data: x on TGI too', async () => {
      await withServer({ sseSpace: false }, async (s) => {
        const { raw } = await postRaw(`${s.url}/v1/chat/completions`, body);
        const text = raw.toString('utf8');
        assert.ok(!text.includes('data: '));
        assert.ok(text.endsWith('data:[DONE]\n\n'));
      });
      await withServer({ sseSpace: true, tokens: ['a', 'b'] }, async (s) => {
        const { raw } = await postRaw(`${s.url}/generate_stream`, { inputs: 'x' });
        const events = raw.toString('utf8').split('\n\n').filter(Boolean);
        assert.equal(events.length, 2);
        assert.ok(events.every((e) => e.startsWith('data: {')));
      });
    });
  });

  describe('faults', () => {
    it('status answers that status with {"error":"injected"}, for `times` requests only', async () => {
      server.fault('/embed', { status: 503, times: 2 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await post(`${server.url}/embed`, { inputs: 'x' });
        statuses.push(r.status);
        if (r.status === 503) assert.deepEqual(r.data, { error: 'injected' });
      }
      assert.deepEqual(statuses, [503, 503, 200]);
      assert.equal(server.requests.length, 3, 'faulted requests are recorded too');
    });

    it('faults apply per path, replace earlier faults and clearFaults removes them', async () => {
      server.fault('/embed', { status: 500 });
      server.fault('/embed', { status: 429 });
      assert.equal((await post(`${server.url}/embed`, { inputs: 'x' })).status, 429);
      assert.equal((await post(`${server.url}/rerank`, { query: 'q', texts: ['t'] })).status, 200);
      assert.equal((await get(`${server.url}/nope`)).status, 404);
      server.fault('/nope', { status: 418 });
      assert.equal((await get(`${server.url}/nope`)).status, 418, 'faults apply before routing');
      server.clearFaults();
      assert.equal((await post(`${server.url}/embed`, { inputs: 'x' })).status, 200);
      assert.equal((await get(`${server.url}/nope`)).status, 404);
    });

    it('malformedJson answers 200 application/json with truncated JSON', async () => {
      server.fault('/v1/embeddings', { malformedJson: true });
      const r = await axios.post<string>(`${server.url}/v1/embeddings`, { input: 'x' }, { responseType: 'text' });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.equal(r.data, '{"data": [');
      assert.throws(() => JSON.parse(r.data), SyntaxError);
    });

    it('delayMs waits before answering', async () => {
      server.fault('/health', { delayMs: 150 });
      const started = Date.now();
      const r = await get(`${server.url}/health`);
      assert.equal(r.status, 200);
      assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
    });

    it('hangUp destroys the socket without an answer', async () => {
      server.fault('/v1/retrieval', { hangUp: true, times: 1 });
      await assert.rejects(
        axios.post(`${server.url}/v1/retrieval`, { text: 'q', embedding: fakeEmbedding('q', 8) }),
        (err: unknown) => {
          assert.ok(axios.isAxiosError(err));
          assert.equal(err.response, undefined);
          assert.ok(err.code === 'ECONNRESET' || /socket hang up/.test(err.message), `${err.code} ${err.message}`);
          return true;
        },
      );
      const ok = await post(`${server.url}/v1/retrieval`, { text: 'q', embedding: fakeEmbedding('q', 8) });
      assert.equal(ok.status, 200);
    });

    it('truncateStream ends OpenAI streams without [DONE] and TGI streams without the final event', async () => {
      server.fault('/v1/chat/completions', { truncateStream: true });
      const chat = await postRaw(`${server.url}/v1/chat/completions`, { stream: true, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(chat.status, 200);
      const data = sseData(chat.raw);
      assert.ok(!data.includes('[DONE]'));
      const full = TOKENS.length + 2;
      assert.equal(data.length, Math.floor(full / 2));
      assert.ok(data.map((d) => JSON.parse(d)).every((c) => c.choices[0].finish_reason === null));

      server.fault('/generate_stream', { truncateStream: true });
      const tgi = await postRaw(`${server.url}/generate_stream`, { inputs: 'x' });
      const events = sseData(tgi.raw).map((d) => JSON.parse(d));
      assert.equal(events.length, Math.floor(TOKENS.length / 2));
      assert.ok(events.every((e) => e.details === null && e.generated_text === null));
    });
  });

  describe('API key', () => {
    it('answers 401 in the OpenAI error shape unless Authorization: Bearer <apiKey> is sent', async () => {
      await withServer({ apiKey: 'sk-test' }, async (s) => {
        const expected = { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } };
        const none = await post(`${s.url}/v1/embeddings`, { input: 'x' });
        assert.equal(none.status, 401);
        assert.deepEqual(none.data, expected);
        const wrong = await post(`${s.url}/v1/embeddings`, { input: 'x' }, { authorization: 'Bearer nope' });
        assert.equal(wrong.status, 401);
        const right = await post(`${s.url}/v1/embeddings`, { input: 'x' }, { authorization: 'Bearer sk-test' });
        assert.equal(right.status, 200);
        assert.deepEqual(
          s.requests.map((r) => r.headers.authorization),
          [undefined, 'Bearer nope', 'Bearer sk-test'],
        );
      });
    });
  });

  describe('dataprep', () => {
    it('ingests multipart files (FormData) and a later /v1/retrieval finds them', async () => {
      await withServer({ embeddingDimensions: 64 }, async (s) => {
        const text = 'Zyxwvut quokkas juggle marmalade under neon aurora.';
        const form = new FormData();
        form.append('files', new Blob([text], { type: 'text/plain' }), 'quokka.txt');
        form.append('chunk_size', '1500');
        form.append('chunk_overlap', '100');
        form.append('index_name', 'rag-redis');
        const r = await axios.post(`${s.url}/v1/dataprep/ingest`, form, { validateStatus: () => true });
        assert.equal(r.status, 200);
        assert.deepEqual(r.data, { status: 200, message: 'Data preparation succeeded' });
        const recorded = s.requests[0].body as { fields: Record<string, string[]>; files: unknown[] };
        assert.deepEqual(recorded.files, [{ name: 'files', filename: 'quokka.txt', content: text }]);
        assert.deepEqual(recorded.fields, { chunk_size: ['1500'], chunk_overlap: ['100'], index_name: ['rag-redis'] });
        assert.equal(s.documents.length, 7);

        const embedding = fakeEmbedding(text, 64);
        const scores = s.documents.map((d) => cos(fakeEmbedding(d.text, 64), embedding));
        assert.ok(scores.slice(0, -1).every((x) => x < scores[6]), 'premise: the ingested text is strictly nearest');
        const found = await post(`${s.url}/v1/retrieval`, { text, embedding, k: 1 });
        assert.equal(found.status, 200);
        assert.equal(found.data.retrieved_docs[0].text, text);
        assert.equal(found.data.metadata[0].source, 'quokka.txt');
      });
    });

    it('parses a hand-built multipart body: CRLF inside content, repeated files, link_list', async () => {
      const boundary = 'XyZ--b0und4ry';
      const fileA = 'line one\r\nline two\r\n--not-a-boundary\r\nwörld 🌍\r\n';
      const fileB = 'second file';
      const parts = [
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${fileA}\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="b.md"\r\n\r\n${fileB}\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="link_list"\r\n\r\n["https://example.com/a"]\r\n`,
        `--${boundary}--\r\n`,
      ];
      const r = await post(`${server.url}/v1/dataprep/ingest`, Buffer.from(parts.join(''), 'utf8'), {
        'content-type': `multipart/form-data; boundary="${boundary}"`,
      });
      assert.equal(r.status, 200);
      const recorded = server.requests[0].body as { fields: Record<string, string[]>; files: { filename: string; content: string }[] };
      assert.deepEqual(
        recorded.files.map((f) => [f.filename, f.content]),
        [
          ['a.txt', fileA],
          ['b.md', fileB],
        ],
      );
      assert.deepEqual(recorded.fields.link_list, ['["https://example.com/a"]']);
      assert.deepEqual(
        server.documents.slice(6).map((d) => d.text),
        [fileA, fileB, 'https://example.com/a'],
      );
    });

    it('answers 400 when neither files nor link_list are given', async () => {
      const form = new FormData();
      form.append('chunk_size', '1500');
      const r = await axios.post(`${server.url}/v1/dataprep/ingest`, form, { validateStatus: () => true });
      assert.equal(r.status, 400);
      assert.deepEqual(r.data, { detail: 'Must provide either a file or a string list.' });
      const empty = new FormData();
      empty.append('link_list', '[]');
      assert.equal((await axios.post(`${server.url}/v1/dataprep/ingest`, empty, { validateStatus: () => true })).status, 400);
      assert.equal(server.documents.length, 6);
    });
  });

  describe('OPEA health', () => {
    it('GET /v1/health_check describes the service', async () => {
      const r = await get(`${server.url}/v1/health_check`);
      assert.deepEqual(r.data, { 'Service Title': 'fake', Version: '1.5', 'Service Description': 'loopback' });
    });
  });

  describe('bounds and shutdown', () => {
    it('closes the socket of every request after maxRequests', async () => {
      await withServer({ maxRequests: 2 }, async (s) => {
        assert.equal((await get(`${s.url}/health`)).status, 200);
        assert.equal((await get(`${s.url}/health`)).status, 200);
        await assert.rejects(axios.get(`${s.url}/health`), (err: unknown) => axios.isAxiosError(err) && err.response === undefined);
        assert.equal(s.requests.length, 2);
      });
    });

    it('close() resolves with keep-alive connections and pending delays, and the port is closed afterwards', async () => {
      const s = await ProtocolServer.start();
      const port = Number(new URL(s.url).port);
      assert.equal((await get(`${s.url}/health`)).status, 200); // leaves a keep-alive connection open
      s.fault('/health', { delayMs: 60_000 });
      const pending = axios.get(`${s.url}/health`).then(
        () => 'answered',
        () => 'failed',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await s.close();
      assert.ok(Date.now() - started < 1000);
      assert.equal(await pending, 'failed');
      await s.close(); // idempotent
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve('connected')));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
    });
  });
});
