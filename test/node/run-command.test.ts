import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProtocolServer } from '../support/protocol-server';
import { REPO_ROOT } from '../support/reference';
import { runCli } from '../support/run-cli';

const OFFLINE = path.join(REPO_ROOT, 'flows', 'chatqna-offline.json');
const CHATQNA = path.join(REPO_ROOT, 'flows', 'chatqna.json');

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** flows/chatqna.json with every opea-server pointed at `url`, and the changes asked for applied. */
function chatqnaAt(url: string, change: (node: FlowNode) => void = () => undefined): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(CHATQNA, 'utf8')) as FlowNode[];
  for (const node of flow) {
    if (node.type === 'opea-server') Object.assign(node, { baseUrl: url, timeout: 5, retries: 0 });
    change(node);
  }
  return flow;
}

describe('opea-flow run', function () {
  this.timeout(120_000);
  let dir: string;
  let srv: ProtocolServer | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-run-test-'));
  });
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const writeFlow = (flow: unknown, name = 'flow.json') => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(flow));
    return file;
  };

  it('answers from the offline example after its start-up ingest, and leaves the flow file untouched', async () => {
    const before = sha(OFFLINE);
    const result = await runCli(['run', OFFLINE, '--input', '{"text": "Who developed Node-RED?"}']);
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { text: string; prompt: string };
    assert.match(answer.text, /originally developed by IBM/);
    assert.doesNotMatch(answer.text, /^#/);
    assert.match(answer.prompt, /### Question: Who developed Node-RED\?/);
    assert.equal(result.stderr, '');
    assert.equal(sha(OFFLINE), before);
  });

  it('keeps the embedded store in --user-dir: a document ingested over HTTP in one run is found in the next', async () => {
    const userDir = path.join(dir, 'user');
    const text = 'The Zorblax reactor on Mars was commissioned in 2041 by the Ares colony.';
    const ingest = await runCli(['run', OFFLINE, '--entry', '/v1/dataprep', '--user-dir', userDir, '--input', JSON.stringify({ name: 'zorblax.md', text })]);
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.equal((JSON.parse(ingest.stdout) as { status: number }).status, 200);
    const answer = await runCli(['run', OFFLINE, '--user-dir', userDir, '--input', '{"text": "When was the Zorblax reactor commissioned?"}']);
    assert.equal(answer.code, 0, answer.stderr);
    assert.match((JSON.parse(answer.stdout) as { text: string }).text, /commissioned in 2041/);
  });

  for (const variant of [
    { label: 'direct backends (TEI, OPEA retriever, TEI rerank, TGI stream)', change: () => undefined, llmPath: '/generate_stream' },
    {
      label: 'OPEA microservices',
      change: (n: FlowNode) => {
        if (['opea-embedding', 'opea-rerank', 'opea-llm'].includes(n.type)) n.backend = 'opea';
      },
      llmPath: '/v1/chat/completions',
    },
  ]) {
    it(`runs flows/chatqna.json against the protocol server with ${variant.label}: ingest tab, then query tab`, async () => {
      srv = await ProtocolServer.start({ embeddingDimensions: 16 });
      const file = writeFlow(chatqnaAt(srv.url, variant.change));
      const ingest = await runCli(['run', file, '--entry', '/v1/dataprep/ingest', '--input', JSON.stringify({ files: [{ name: 'mars.md', text: 'Olympus Mons on Mars is the tallest volcano in the solar system.' }] })]);
      assert.equal(ingest.code, 0, ingest.stderr);
      assert.ok(srv.documents.some((d) => d.text.includes('Olympus Mons')));

      const query = await runCli(['run', file, '--input', '{"text": "What is the tallest volcano?"}']);
      assert.equal(query.code, 0, query.stderr);
      assert.equal((JSON.parse(query.stdout) as { text: string }).text, 'Hello, wörld 🌍!');
      const paths = srv.requests.map((r) => r.path);
      const embedPath = variant.llmPath === '/generate_stream' ? '/embed' : '/v1/embeddings';
      const rerankPath = variant.llmPath === '/generate_stream' ? '/rerank' : '/v1/reranking';
      assert.deepEqual(paths, ['/v1/dataprep/ingest', embedPath, '/v1/retrieval', rerankPath, variant.llmPath]);
      const llmRequest = srv.requests[4];
      assert.match(String(llmRequest.prompt ?? JSON.stringify(llmRequest.body)), /Olympus Mons/);
    });
  }

  it('exits 1 with the failing node named and the server to check when a service answers 500', async () => {
    srv = await ProtocolServer.start({ embeddingDimensions: 16 });
    srv.fault('/generate_stream', { status: 500 });
    const result = await runCli(['run', writeFlow(chatqnaAt(srv.url)), '--input', '{"text": "Anything?"}']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /llm \(c0a1e5f0a0000006\)/);
    assert.ok(result.stderr.includes(`${srv.url}/generate_stream`), result.stderr);
    assert.match(result.stderr, /500/);
  });

  it('exits 1 naming the node when its server refuses connections', async () => {
    srv = await ProtocolServer.start({});
    const url = srv.url;
    await srv.close();
    srv = undefined;
    const result = await runCli(['run', writeFlow(chatqnaAt(url)), '--input', '"Anything?"']);
    assert.equal(result.code, 1);
    // The example answers the failure over HTTP (502, the error as JSON); its text names the node.
    assert.match(result.stderr, /^opea-flow run: \/v1\/chatqna answered HTTP 502: embedding \(c0a1e5f0a0000003\): .*connection refused/);
    assert.ok(result.stderr.includes(url), result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'the error is printed once');
  });

  it('exits 2 on arguments or flows it cannot use, at once', async () => {
    const unknownType = writeFlow([...chatqnaAt('http://127.0.0.1:9'), { id: 'x1', type: 'opea-teleporter', z: 'c0a1e5f0a0000001', wires: [] }]);
    const missingType = writeFlow([
      { id: 't', type: 'tab', label: 'uses a node from another pack' },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['s']] },
      { id: 's', type: 'contrib-sentiment', z: 't', wires: [['out']] },
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ], 'missing-type.json');
    const cases: [string[], RegExp][] = [
      [['run', OFFLINE, '--input', '{not json'], /--input is not JSON/],
      [['run', OFFLINE, '--input', '{}', '--entry', '/nowhere'], /no POST http in node has the URL \/nowhere/],
      [['run', unknownType, '--input', '{}'], /no node type opea-teleporter/],
      [['run', OFFLINE, '--input', '@/nonexistent/input.json'], /cannot read --input/],
      [['run', missingType, '--input', '{}', '--entry', '/q'], /node types that are not installed: contrib-sentiment;/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
