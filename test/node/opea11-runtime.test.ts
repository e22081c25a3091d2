/**
 * The nodes' `opea` backends in a real Node-RED runtime, against OPEA GenAIComps 1.1 (the stand-ins of
 * ../shared/peers/opea-v1.1, pydantic models re-typed from the v1.1 source, answering as the 1.1
 * handlers do: the images the exported bundles deploy) and against 1.5 (the loopback protocol server and
 * guardrail server). The same cases run against both; what each service acted on is read from its side:
 * for 1.1 the stand-in's log (the model the body was parsed as, and the validated request with its
 * defaults), for 1.5 the request as recorded, with the v1.5 defaults of the fields the handler reads.
 */
import assert from 'node:assert/strict';
import { GuardrailServer, opeaRefusal } from '../support/guardrail-server';
import { HopRecord, startStandIns, StandIns, StandInRole } from '../support/peers/stand-ins';
import { fakeEmbedding, MultipartBody, ProtocolServer } from '../support/protocol-server';
import { helper, nextError, nextMessage, onEachRuntime, packNodes } from '../support/runtimes';

const TAB = 'tab1';
const nodes = packNodes();

type Json = Record<string, any>;

/** One request as the service's handler saw it. */
interface Hop {
  path: string;
  status: number;
  /** The handler's input type the body was read as (EmbedDoc, LLMParamsDoc, ...). */
  parsedAs?: string;
  /** The fields the handler acts on, defaults filled in. */
  fields: Json;
  /** Dataprep: the files of the request (their names) and its form fields. */
  files?: string[];
  form?: Record<string, string>;
}

interface Release {
  name: '1.1' | '1.5';
  start(): Promise<void>;
  stop(): Promise<void>;
  base(role: StandInRole): string;
  /** Forgets the requests so far; hops() reads only later ones. */
  mark(): void;
  hops(role: StandInRole): Hop[];
  /** The field that switches streaming in the LLM service's LLMParamsDoc. */
  streamField: 'streaming' | 'stream';
  /** Where the dataprep service takes an ingest. */
  ingestPath: string;
  /** The LLM service's answer to an LLMParamsDoc: whole, and as the pieces the node streams. */
  answer(query: string, documents: number): { text: string; chunks: string[] };
  /** Its answer to an OpenAI chat request. */
  chatAnswer: string;
}

// ---------------------------------------------------------------------------------------------------------
// GenAIComps 1.1: the stand-ins

const NAMES: Record<StandInRole, string> = { embedding: 'emb11', retriever: 'ret11', reranking: 'rr11', llm: 'llm11', dataprep: 'prep11', guardrail: 'guard11' };

function multipartField(raw: string, name: string): string | undefined {
  return new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`).exec(raw)?.[1];
}

function release11(): Release {
  let peers: StandIns;
  let seen = 0;
  const toHop = (r: HopRecord): Hop => {
    const hop: Hop = { path: r.path, status: r.status, parsedAs: r.parsed_as, fields: r.effective ?? {} };
    if (r.role === 'dataprep' && r.status === 200) {
      // fakes.py's dataprep answers with the names of the files it received (the 1.1 service answers
      // {status, message} only, prepare_doc_redis.py:294): that list is how the test sees them.
      hop.files = (JSON.parse(r.response) as { files: string[] }).files;
      hop.form = {};
      for (const key of ['chunk_size', 'chunk_overlap', 'index_name', 'link_list']) {
        const value = multipartField(r.request, key);
        if (value !== undefined) hop.form[key] = value;
      }
    }
    return hop;
  };
  return {
    name: '1.1',
    async start() {
      peers = await startStandIns((Object.keys(NAMES) as StandInRole[]).map((role) => ({ role, name: NAMES[role] })));
    },
    async stop() {
      await peers?.stop();
    },
    base: (role) => peers.base[NAMES[role]],
    mark() {
      seen = peers.log().length;
    },
    hops: (role) => peers.log().slice(seen).filter((r) => r.service === NAMES[role]).map(toHop),
    streamField: 'streaming',
    ingestPath: '/v1/dataprep',
    answer(query, documents) {
      const text = `[llm11] answer to '${query}' from ${documents} docs`;
      // The stand-in streams the words without the spaces between them (a TGI token carries its leading
      // space; fakes.py's split(" ") drops it), so the streamed text is the words run together.
      const chunks = text.split(' ');
      return { text, chunks };
    },
    chatAnswer: '[llm11] chat answer',
  };
}

// ---------------------------------------------------------------------------------------------------------
// GenAIComps 1.5: the protocol server (embedding, retriever, reranking, LLM, dataprep) and the guardrail server

const PATHS_15: Record<StandInRole, string> = {
  embedding: '/v1/embeddings',
  retriever: '/v1/retrieval',
  reranking: '/v1/reranking',
  llm: '/v1/chat/completions',
  dataprep: '/v1/dataprep/ingest',
  guardrail: '/v1/guardrails',
};

/** The v1.5 handler's input type for a body (the first member of its Union that the body fills). */
function parsedAs15(role: StandInRole, body: Json): string | undefined {
  if (role === 'embedding') return body.input !== undefined ? 'EmbeddingRequest' : undefined;
  if (role === 'retriever') return body.text !== undefined && body.embedding !== undefined ? 'EmbedDoc' : undefined;
  if (role === 'reranking') return body.initial_query !== undefined ? 'SearchedDoc' : undefined;
  if (role === 'llm') return body.query !== undefined ? 'LLMParamsDoc' : body.messages !== undefined ? 'ChatCompletionRequest' : undefined;
  if (role === 'guardrail') return typeof body.text === 'string' ? 'TextDoc' : undefined;
  return undefined;
}

/** Defaults of the fields the tests read (v1.5 comps/cores/proto/docarray.py EmbedDoc l.95, SearchedDoc l.135, LLMParamsDoc l.417). */
const DEFAULTS_15: Partial<Record<StandInRole, Json>> = {
  retriever: { search_type: 'similarity', k: 4, fetch_k: 20, lambda_mult: 0.5, score_threshold: 0.2 },
  reranking: { top_n: 1 },
  llm: { max_tokens: 1024, top_k: 10, top_p: 0.95, temperature: 0.01, repetition_penalty: 1.03, stream: true },
};

const TOKENS_15 = ['Hello', ',', ' wörld', ' 🌍', '!'];

function release15(): Release {
  let srv: ProtocolServer;
  let guard: GuardrailServer;
  let seen = { srv: 0, guard: 0 };
  return {
    name: '1.5',
    async start() {
      srv = await ProtocolServer.start({ embeddingDimensions: 8 });
      // What a 1.5 guardrail (Llama Guard behind it) answers: a refusal with the black list for weapons.
      guard = await GuardrailServer.start({ opea: (_service, text) => (/weapon/i.test(text) ? opeaRefusal('Indiscriminate Weapons') : { text, downstream_black_list: [] }) });
    },
    async stop() {
      await srv?.close();
      await guard?.close();
    },
    base: (role) => (role === 'guardrail' ? guard.url : srv.url),
    mark() {
      seen = { srv: srv.requests.length, guard: guard.requests.length };
    },
    hops(role) {
      if (role === 'guardrail') {
        return guard.requests.slice(seen.guard).map((r) => ({ path: r.path, status: 200, parsedAs: parsedAs15(role, r.body ?? {}), fields: r.body ?? {} }));
      }
      return srv.requests
        .slice(seen.srv)
        .filter((r) => r.path === PATHS_15[role])
        .map((r) => {
          if (role === 'dataprep') {
            const form = r.body as MultipartBody;
            return {
              path: r.path,
              status: 200,
              fields: {},
              files: form.files.filter((f) => f.name === 'files').map((f) => f.filename),
              form: Object.fromEntries(Object.entries(form.fields).map(([k, v]) => [k, v[0]])),
            };
          }
          const body = (r.body ?? {}) as Json;
          return { path: r.path, status: 200, parsedAs: parsedAs15(role, body), fields: { ...(DEFAULTS_15[role] ?? {}), ...body } };
        });
    },
    streamField: 'stream',
    ingestPath: '/v1/dataprep/ingest',
    answer: () => ({ text: TOKENS_15.join(''), chunks: TOKENS_15 }),
    chatAnswer: TOKENS_15.join(''),
  };
}

// ---------------------------------------------------------------------------------------------------------

function server(id: string, url: string) {
  return { id, type: 'opea-server', name: 'opea', baseUrl: url, timeout: 5, retries: 0, backoff: 10, headers: '', verifyTls: true };
}

function stage(id: string, type: string, props: Json, wires: string[][]) {
  return { id, type, z: TAB, name: '', configVersion: 2, wires, ...props };
}

const out = (id: string) => ({ id, type: 'helper', z: TAB });

/** Every message a helper node receives from now on. */
function collect(id: string): Json[] {
  const got: Json[] = [];
  helper.getNode(id).on('input', (m: Json) => got.push(m));
  return got;
}

/** Only the guardrail's remote check, so the verdict is the service's. */
const REMOTE_ONLY = { pii: 'off', secrets: 'off', injection: 'off', banned: 'off', characters: 'off', limits: 'off', schema: 'off', remote: 'block', remoteChecks: 'guardrails' };

onEachRuntime('opea backends against GenAIComps 1.1 and 1.5', () => {
  for (const release of [release11(), release15()]) {
    describe(`GenAIComps ${release.name}`, function () {
      this.timeout(20_000);
      before(() => release.start());
      after(() => release.stop());
      beforeEach(() => release.mark());

      it('opea-embedding: a text in, an EmbedDoc {text, embedding} out; the service read an EmbeddingRequest', async () => {
        await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', release.base('embedding')), stage('emb', 'opea-embedding', { backend: 'opea', server: 's', model: 'BAAI/bge-base-en-v1.5' }, [['out']]), out('out')]);
        const got = nextMessage(helper.getNode('out'));
        helper.getNode('emb').receive({ payload: 'What is OPEA?' });
        const msg = await got;
        assert.deepEqual(Object.keys(msg.payload).sort(), ['embedding', 'text']);
        assert.equal(msg.payload.text, 'What is OPEA?');
        assert.ok(msg.payload.embedding.length > 0 && msg.payload.embedding.every((x: unknown) => typeof x === 'number'), JSON.stringify(msg.payload));
        assert.equal(msg.metrics.embedding.texts, 1);
        const hops = release.hops('embedding');
        assert.equal(hops.length, 1);
        assert.equal(hops[0].path, '/v1/embeddings');
        assert.equal(hops[0].parsedAs, 'EmbeddingRequest');
        assert.deepEqual(hops[0].fields.input, ['What is OPEA?']);
        assert.equal(hops[0].fields.model, 'BAAI/bge-base-en-v1.5');
      });

      if (release.name === '1.5') {
        // 1.1 answers one vector per input too (embedding_tei.py:62-70), but the stand-in answers a single
        // vector for any number of inputs (fakes.py handle(): vecs = [fake_vec(obj.input)]), so a list is
        // only tried against 1.5.
        it('opea-embedding: a list of texts in, one EmbedDoc per text out', async () => {
          await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', release.base('embedding')), stage('emb', 'opea-embedding', { backend: 'opea', server: 's', model: 'm/e' }, [['out']]), out('out')]);
          const got = nextMessage(helper.getNode('out'));
          helper.getNode('emb').receive({ payload: ['one', 'two'] });
          const msg = await got;
          assert.deepEqual(msg.payload.map((d: Json) => d.text), ['one', 'two']);
          assert.deepEqual(msg.payload[1].embedding, fakeEmbedding('two', 8));
        });
      }

      it('opea-retriever (redis): an EmbedDoc in, a SearchedDoc out; the service got the node\'s k, or the message\'s', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('s', release.base('retriever')),
          stage('ret', 'opea-retriever', { backend: 'redis', server: 's', searchK: 3, searchType: 'similarity' }, [['out']]),
          out('out'),
        ]);
        const got = collect('out');
        const ret = helper.getNode('ret');
        const first = nextMessage(helper.getNode('out'));
        ret.receive({ payload: { text: 'What was Nike revenue in 2023?', embedding: fakeEmbedding('What was Nike revenue in 2023?', 8) } });
        await first;
        const second = nextMessage(helper.getNode('out'));
        ret.receive({ payload: { text: 'Paris?', embedding: fakeEmbedding('Paris?', 8), k: 2 } });
        await second;
        const [a, b] = got.map((m) => m.payload);
        assert.equal(a.initial_query, 'What was Nike revenue in 2023?');
        assert.equal(a.retrieved_docs.length, 3);
        for (const d of a.retrieved_docs) {
          assert.equal(typeof d.text, 'string');
          assert.ok(Object.keys(d).every((k) => ['text', 'metadata'].includes(k)), JSON.stringify(d));
        }
        assert.equal(b.retrieved_docs.length, 2);
        assert.equal(got[0].metrics.retriever.documents, 3);
        const hops = release.hops('retriever');
        assert.deepEqual(hops.map((h) => [h.path, h.parsedAs, h.fields.k, h.fields.search_type]), [
          ['/v1/retrieval', 'EmbedDoc', 3, 'similarity'],
          ['/v1/retrieval', 'EmbedDoc', 2, 'similarity'],
        ]);
        assert.equal(hops[0].fields.text, 'What was Nike revenue in 2023?');
      });

      it('opea-rerank (opea): a SearchedDoc in, an LLMParamsDoc {query, documents} out; the service got top_n', async () => {
        await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', release.base('reranking')), stage('rr', 'opea-rerank', { backend: 'opea', server: 's', model: 'BAAI/bge-reranker-base', topN: 2 }, [['out']]), out('out')]);
        const got = nextMessage(helper.getNode('out'));
        const docs = ['Paris is the capital of France.', 'Redis stores vectors.', 'Node-RED wires flows.'];
        helper.getNode('rr').receive({ payload: { initial_query: 'What is the capital of France?', retrieved_docs: docs.map((text) => ({ text, metadata: {} })) } });
        const msg = await got;
        assert.equal(msg.payload.query, 'What is the capital of France?');
        assert.equal(msg.payload.documents.length, 2);
        assert.ok(msg.payload.documents.every((d: string) => docs.includes(d)));
        assert.equal(msg.metrics.rerank.documents, 2);
        const hops = release.hops('reranking');
        assert.equal(hops.length, 1);
        assert.equal(hops[0].parsedAs, 'SearchedDoc');
        assert.equal(hops[0].fields.top_n, 2);
        assert.equal(hops[0].fields.initial_query, 'What is the capital of France?');
      });

      it('opea-llm (opea), not streaming: a GeneratedDoc {text, prompt} on output 1, nothing on output 2; the service got max tokens, temperature and no streaming', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('s', release.base('llm')),
          stage('llm', 'opea-llm', { backend: 'opea', server: 's', model: 'Intel/neural-chat-7b-v3-3', streaming: false, maxTokens: 77, temperature: 0.3, topK: 5 }, [['answer'], ['chunks']]),
          out('answer'),
          out('chunks'),
        ]);
        const chunks = collect('chunks');
        const got = nextMessage(helper.getNode('answer'));
        helper.getNode('llm').receive({ payload: { query: 'What is OPEA?', documents: ['OPEA is a set of microservices.', 'OPEA runs on Kubernetes.'] } });
        const msg = await got;
        assert.deepEqual(Object.keys(msg.payload).sort(), ['prompt', 'text']);
        assert.equal(msg.payload.text, release.answer('What is OPEA?', 2).text);
        assert.match(msg.payload.prompt, /OPEA is a set of microservices\.[\s\S]*What is OPEA\?/);
        assert.deepEqual(msg.contexts, ['OPEA is a set of microservices.', 'OPEA runs on Kubernetes.']);
        assert.equal(chunks.length, 0);
        const hops = release.hops('llm');
        assert.equal(hops.length, 1);
        assert.equal(hops[0].parsedAs, 'LLMParamsDoc');
        assert.equal(hops[0].fields[release.streamField], false);
        assert.equal(hops[0].fields.max_tokens, 77);
        assert.equal(hops[0].fields.temperature, 0.3);
        assert.equal(hops[0].fields.top_k, 5);
        assert.deepEqual(hops[0].fields.documents, ['OPEA is a set of microservices.', 'OPEA runs on Kubernetes.']);
      });

      it('opea-llm (opea), streaming: one message per chunk on output 2 (msg.parts), then the whole answer on output 1', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('s', release.base('llm')),
          stage('llm', 'opea-llm', { backend: 'opea', server: 's', streaming: true, maxTokens: 64, temperature: 0.2 }, [['answer'], ['chunks']]),
          out('answer'),
          out('chunks'),
        ]);
        const chunks = collect('chunks');
        const got = nextMessage(helper.getNode('answer'));
        helper.getNode('llm').receive({ payload: { query: 'Who is Nike?', documents: ['Nike sells shoes.'] } });
        const msg = await got;
        const expected = release.answer('Who is Nike?', 1);
        assert.deepEqual(chunks.map((c) => c.payload), [...expected.chunks, '']);
        assert.deepEqual(chunks.map((c) => c.parts.index), chunks.map((_, i) => i));
        assert.equal(chunks[chunks.length - 1].parts.count, chunks.length);
        assert.equal(msg.payload.text, expected.chunks.join(''));
        assert.equal(msg.metrics.llm.completionTokens, release.name === '1.1' ? expected.chunks.length : TOKENS_15.length);
        assert.ok(msg.metrics.llm.ttftMs > 0 && msg.metrics.llm.ttftMs <= msg.metrics.llm.totalMs);
        const hops = release.hops('llm');
        assert.equal(hops.length, 1);
        assert.equal(hops[0].parsedAs, 'LLMParamsDoc');
        assert.equal(hops[0].fields[release.streamField], true);
        assert.equal(hops[0].fields.max_tokens, 64);
        assert.equal(hops[0].fields.temperature, 0.2);
      });

      it('opea-llm (opea): a chat request with history goes as a ChatCompletionRequest; its answer is read', async () => {
        await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', release.base('llm')), stage('llm', 'opea-llm', { backend: 'opea', server: 's', streaming: false, maxTokens: 32 }, [['answer'], []]), out('answer')]);
        const got = nextMessage(helper.getNode('answer'));
        helper.getNode('llm').receive({ payload: { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'What is OPEA?' }] } });
        const msg = await got;
        assert.equal(msg.payload.text, release.chatAnswer);
        const hops = release.hops('llm');
        assert.equal(hops[0].parsedAs, 'ChatCompletionRequest');
        assert.equal(hops[0].fields.max_tokens, 32);
        assert.equal(hops[0].fields.messages.length, 3);
      });

      it('opea-dataprep (redis): each file in a request of its own, the links in one more, at the release\'s ingest path', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('s', release.base('dataprep')),
          stage('prep', 'opea-dataprep', { backend: 'redis', server: 's', chunkSize: 500, chunkOverlap: 50, indexName: 'rag-redis' }, [['out']]),
          out('out'),
        ]);
        const got = collect('out');
        const first = nextMessage(helper.getNode('out'));
        helper.getNode('prep').receive({ payload: [{ name: 'nike.txt', text: 'Nike revenue in FY2023 was $51.2B.' }, { name: 'opea.md', text: '# OPEA\nComposable GenAI microservices.' }] });
        await first;
        const firstHops = release.hops('dataprep');
        release.mark();
        const second = nextMessage(helper.getNode('out'));
        helper.getNode('prep').receive({ payload: { link_list: ['https://example.com/a', 'https://example.com/b'] } });
        await second;
        const secondHops = release.hops('dataprep');

        for (const m of got) {
          assert.equal(m.payload.status, 200);
          assert.equal(m.payload.message, 'Data preparation succeeded');
          assert.equal(m.payload.path, release.ingestPath);
        }
        assert.equal(got[0].payload.requests, 2);
        assert.equal(got[1].payload.requests, 1);
        // 1.1: the client first asks the 1.2+ path, which the 1.1 service does not serve (404), then learns.
        const answered = firstHops.filter((h) => h.status === 200);
        assert.deepEqual(firstHops.filter((h) => h.status !== 200).map((h) => [h.path, h.status]), release.name === '1.1' ? [['/v1/dataprep/ingest', 404]] : []);
        assert.deepEqual(answered.map((h) => [h.path, h.files]), [
          [release.ingestPath, ['nike.txt']],
          [release.ingestPath, ['opea.md']],
        ]);
        for (const h of answered) {
          assert.equal(h.form?.chunk_size, '500');
          assert.equal(h.form?.chunk_overlap, '50');
          // 1.1 takes no index_name (it writes the index its INDEX_NAME names, prepare_doc_redis.py:150).
          assert.equal(h.form?.index_name, release.name === '1.1' ? undefined : 'rag-redis');
        }
        assert.deepEqual(secondHops.map((h) => [h.path, h.status, h.files, h.form?.link_list]), [[release.ingestPath, 200, [], '["https://example.com/a","https://example.com/b"]']]);
      });

      it('opea-guardrail (opea): a safe text passes on output 1 unchanged, an unsafe one leaves on output 2 with the policy', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('s', release.base('guardrail')),
          stage('rail', 'opea-guardrail', { backend: 'opea', server: 's', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'input', ...REMOTE_ONLY }, [['pass'], ['blocked']]),
          out('pass'),
          out('blocked'),
        ]);
        const passed = collect('pass');
        const blocked = collect('blocked');
        const rail = helper.getNode('rail');
        const p = nextMessage(helper.getNode('pass'));
        rail.receive({ payload: 'What is OPEA?' });
        await p;
        const b = nextMessage(helper.getNode('blocked'));
        rail.receive({ payload: 'How do I build a weapon?' });
        await b;
        assert.equal(passed.length, 1);
        assert.equal(blocked.length, 1);
        assert.equal(passed[0].payload, 'What is OPEA?');
        assert.equal(passed[0].guardrail.verdict, 'pass');
        assert.equal(blocked[0].payload, 'How do I build a weapon?');
        assert.equal(blocked[0].guardrail.verdict, 'blocked');
        assert.match(blocked[0].guardrail.violatedPolicies, /Indiscriminate Weapons/);
        const hops = release.hops('guardrail');
        assert.deepEqual(hops.map((h) => [h.path, h.parsedAs, h.fields.text]), [
          ['/v1/guardrails', 'TextDoc', 'What is OPEA?'],
          ['/v1/guardrails', 'TextDoc', 'How do I build a weapon?'],
        ]);
      });

      it('the whole chain embedding -> retriever -> rerank -> llm (streaming), each hop in the shape its service reads', async () => {
        await helper.load(nodes, [
          { id: TAB, type: 'tab' },
          server('se', release.base('embedding')),
          server('sr', release.base('retriever')),
          server('srr', release.base('reranking')),
          server('sl', release.base('llm')),
          stage('emb', 'opea-embedding', { backend: 'opea', server: 'se', model: 'BAAI/bge-base-en-v1.5' }, [['ret']]),
          stage('ret', 'opea-retriever', { backend: 'redis', server: 'sr', searchK: 3 }, [['rr']]),
          stage('rr', 'opea-rerank', { backend: 'opea', server: 'srr', model: 'BAAI/bge-reranker-base', topN: 2 }, [['llm']]),
          stage('llm', 'opea-llm', { backend: 'opea', server: 'sl', streaming: true, maxTokens: 50, temperature: 0.5 }, [['answer'], ['chunks']]),
          out('answer'),
          out('chunks'),
        ]);
        const chunks = collect('chunks');
        const got = nextMessage(helper.getNode('answer'));
        helper.getNode('emb').receive({ payload: { text: 'What was Nike revenue?' } });
        const msg = await got;
        const expected = release.answer('What was Nike revenue?', 2);
        assert.equal(msg.payload.text, expected.chunks.join(''));
        assert.deepEqual(chunks.map((c) => c.payload), [...expected.chunks, '']);
        assert.equal(msg.contexts.length, 2);
        for (const stageName of ['embedding', 'retriever', 'rerank', 'llm']) assert.equal(typeof msg.metrics[stageName].ms, 'number', stageName);
        const [emb] = release.hops('embedding');
        const [ret] = release.hops('retriever');
        const [rr] = release.hops('reranking');
        const [llm] = release.hops('llm');
        assert.deepEqual([emb.parsedAs, ret.parsedAs, rr.parsedAs, llm.parsedAs], ['EmbeddingRequest', 'EmbedDoc', 'SearchedDoc', 'LLMParamsDoc']);
        assert.equal(ret.fields.text, 'What was Nike revenue?');
        assert.equal(ret.fields.k, 3);
        assert.equal(rr.fields.top_n, 2);
        assert.equal(rr.fields.retrieved_docs.length, 3);
        assert.equal(llm.fields.query, 'What was Nike revenue?');
        assert.deepEqual(llm.fields.documents, msg.contexts);
        assert.equal(llm.fields[release.streamField], true);
        assert.equal(llm.fields.max_tokens, 50);
        assert.equal(llm.fields.temperature, 0.5);
      });

      if (release.name === '1.1') {
        it('opea-dataprep pointed at a service with neither ingest path: an error naming the node, both paths and what to check', async () => {
          await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', release.base('retriever')), stage('prep', 'opea-dataprep', { name: 'ingest', backend: 'redis', server: 's' }, [['out']]), out('out')]);
          let delivered = false;
          helper.getNode('out').on('input', () => (delivered = true));
          const error = nextError(helper.getNode('prep'));
          helper.getNode('prep').receive({ payload: 'Some text.' });
          const message = await error;
          assert.match(message, /^ingest \(prep\): /);
          assert.match(message, /no dataprep service here: both POST \/v1\/dataprep\/ingest \(GenAIComps 1\.2 to 1\.5\) and POST \/v1\/dataprep \(GenAIComps 1\.1\) answer 404/);
          assert.match(message, /check the opea-server's base URL/);
          assert.equal(delivered, false);
          const status = (helper.getNode('prep').status as unknown as { lastCall: { args: [{ fill: string }] } }).lastCall.args[0];
          assert.equal(status.fill, 'red');
        });
      }
    });
  }
});
