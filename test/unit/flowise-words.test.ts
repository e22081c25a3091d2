/**
 * Messages a Flowise user reads name the node (label and id) and speak of Flowise's settings: Base URL,
 * Model Name, Timeout (ms), the OPEA Server credential; never of Node-RED's (the opea-server config
 * node, msg.model, externalUrl).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useHost } from '../../flowise/host';
import { ICommonObject, INode, INodeData } from '../../flowise/interface';
import { nodeClass as ChatModel } from '../../flowise/nodes/OpeaChatModel';
import { nodeClass as Embeddings } from '../../flowise/nodes/OpeaEmbeddings';
import { nodeClass as RerankRetriever } from '../../flowise/nodes/OpeaRerankRetriever';
import { nodeClass as Retriever } from '../../flowise/nodes/OpeaRetriever';
import { flowiseWords } from '../../flowise/words';
import { ProtocolServer } from '../support/protocol-server';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODE_RED_WORDS = /config node|opea-server|msg\.|Node-RED|redeploy|verify TLS|externalUrl/;

function nodeData(node: INode, inputs: ICommonObject): INodeData {
  return { id: `${node.name}_0`, label: node.label, name: node.name, type: node.type, icon: node.icon, version: node.version, category: node.category, baseClasses: node.baseClasses, inputs, outputs: {} };
}

/** The lines of a TypeScript source that are code, not comments. */
function codeLines(source: string): string[] {
  return source.split('\n').filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line));
}

describe('Flowise words', function () {
  this.timeout(20000);
  let server: ProtocolServer;
  before(async () => {
    useHost(() => {
      throw new Error('no Flowise here');
    });
    server = await ProtocolServer.start({ chunkBoundary: 'whole' });
  });
  after(() => server.close());

  it("the clients' hints that can reach a Flowise node all read in Flowise's words", () => {
    // Server answers can fail in any of these; the adapters cannot check them beforehand.
    const files = ['endpoint', 'wire', 'llm', 'embedding', 'rerank', 'retrieval'].map((f) => path.join(ROOT, 'core', 'clients', `${f}.ts`));
    const phrases = files.flatMap((f) => codeLines(fs.readFileSync(f, 'utf8'))).filter((line) => NODE_RED_WORDS.test(line));
    assert.ok(phrases.length > 0, 'the scan finds the config-node hints');
    for (const phrase of phrases) assert.doesNotMatch(flowiseWords(phrase), NODE_RED_WORDS, `add this phrase to flowise/words.ts: ${phrase}`);
  });

  it('a timeout names the node and its Timeout (ms) input', async () => {
    server.fault('/embed', { delayMs: 1500, times: 3 });
    try {
      const node = new Embeddings();
      const emb = (await node.init(nodeData(node, { backend: 'tei', baseUrl: server.url, timeout: 200 }), '', {})) as { embedQuery(t: string): Promise<number[]> };
      await assert.rejects(emb.embedQuery('slow'), (err: Error) => {
        assert.match(err.message, /^OPEA Embeddings \(opeaEmbeddings_0\): http:\/\/127\.0\.0\.1:\d+\/embed: .*raise the node's Timeout \(ms\)/);
        assert.doesNotMatch(err.message, NODE_RED_WORDS);
        return true;
      });
    } finally {
      server.clearFaults();
    }
  });

  it('settings out of range are refused by their Flowise label, with the limits of the Node-RED node', async () => {
    const chat = new ChatModel();
    const refused = (node: INode, inputs: ICommonObject) => (node.init as (d: INodeData, i: string, o: ICommonObject) => Promise<unknown>)(nodeData(node, { baseUrl: server.url, ...inputs }), '', {});
    await assert.rejects(refused(chat, { backend: 'tgi', maxTokens: 0 }), /^Error: OPEA Chat Model \(opeaChatModel_0\): Max Tokens must be at least 1, not 0$/);
    await assert.rejects(refused(chat, { backend: 'tgi', temperature: 'hot' }), /OPEA Chat Model \(opeaChatModel_0\): Temperature must be a number, not "hot"/);
    await assert.rejects(refused(chat, { backend: 'tgi', topP: 1.5 }), /Top P must be at most 1, not 1\.5/);
    await assert.rejects(refused(chat, { backend: 'vllm' }), /^Error: OPEA Chat Model \(opeaChatModel_0\): Backend 'vLLM' needs Model Name: set it to the model the server runs$/);
    await assert.rejects(refused(chat, { backend: 'nope' }), /Backend 'nope' is not one of tgi, opea, vllm, openai, ollama, extractive/);
    const emb = await new Embeddings().init(nodeData(new Embeddings(), { backend: 'hashing' }), '', {});
    await assert.rejects(refused(new Retriever(), { embeddings: emb, topK: 0 }), /^Error: OPEA Retriever \(opeaRetriever_0\): Top K must be at least 1, not 0$/);
    await assert.rejects(refused(new Retriever(), { embeddings: emb, lambdaMult: 2 }), /Lambda \(MMR\) must be at most 1, not 2/);
    await assert.rejects(refused(new Retriever(), {}), /^Error: OPEA Retriever \(opeaRetriever_0\): connect an Embeddings node$/);
    await assert.rejects(refused(new Retriever(), { embeddings: emb, searchType: 'similarity_distance_threshold' }), /^Error: OPEA Retriever \(opeaRetriever_0\): Search Type 'Similarity, distance threshold' needs Distance Threshold: set it to the largest cosine distance \(0 to 2\) a document may have$/);
    await assert.rejects(refused(new Retriever(), { embeddings: emb, distanceThreshold: 3 }), /Distance Threshold must be a number from 0 to 2, not 3/);
    await assert.rejects(refused(new RerankRetriever(), { baseRetriever: {}, topN: 1.5 }), /OPEA Rerank Retriever \(opeaRerankRetriever_0\): Top N must be a whole number, not 1\.5/);
    await assert.rejects(refused(new Embeddings(), { backend: 'hashing', dimensions: 4 }), /OPEA Embeddings \(opeaEmbeddings_0\): Dimensions \(hashing only\) must be at least 8, not 4/);
    await assert.rejects(refused(new Embeddings(), { backend: 'tei', baseUrl: '' }), /OPEA Embeddings \(opeaEmbeddings_0\): this backend calls a server: set Base URL or connect an OPEA Server credential/);
  });

  it("the distance threshold search gets its Distance Threshold (Node-RED's comes with the message)", async () => {
    const emb = await new Embeddings().init(nodeData(new Embeddings(), { backend: 'tei', baseUrl: server.url }), '', {});
    const node = new Retriever();
    const retriever = (await node.init(nodeData(node, { embeddings: emb, baseUrl: server.url, searchType: 'similarity_distance_threshold', distanceThreshold: '0.4' }), '', {})) as { invoke(q: string): Promise<unknown[]> };
    await retriever.invoke('What is OPEA?');
    const sent = server.requests.filter((r) => r.path === '/v1/retrieval').pop()?.body as ICommonObject;
    assert.equal(sent.search_type, 'similarity_distance_threshold');
    assert.equal(sent.distance_threshold, 0.4);
  });

  it("OPEA Embeddings sends at most Batch Size texts per request (TEI's default limit 32 unless set)", async () => {
    const node = new Embeddings();
    const texts = Array.from({ length: 70 }, (_, i) => `text ${i}`);
    const sizes = async (inputs: ICommonObject) => {
      const before = server.requests.length;
      const emb = (await node.init(nodeData(node, { backend: 'tei', baseUrl: server.url, ...inputs }), '', {})) as { embedDocuments(t: string[]): Promise<number[][]> };
      assert.equal((await emb.embedDocuments(texts)).length, 70);
      return server.requests.slice(before).map((r) => ((r.body as ICommonObject).inputs as string[]).length);
    };
    assert.deepEqual(await sizes({}), [32, 32, 6]);
    assert.deepEqual(await sizes({ batchSize: '50' }), [50, 20]);
    await assert.rejects(sizes({ batchSize: 0 }), /OPEA Embeddings \(opeaEmbeddings_0\): Batch Size must be at least 1, not 0/);
  });

  it('a refused answer tells what to check in Flowise terms', async () => {
    server.fault('/v1/chat/completions', { status: 404, times: 1 });
    try {
      const node = new ChatModel();
      const model = (await node.init(nodeData(node, { backend: 'openai', modelName: 'm', baseUrl: server.url, streaming: false }), '', {})) as { invoke(i: string): Promise<unknown> };
      await assert.rejects(model.invoke('Hi'), (err: Error) => {
        assert.match(err.message, /^OPEA Chat Model \(opeaChatModel_0\): .*HTTP 404.*check Base URL and that this server offers this API \(the Backend input\)/);
        return true;
      });
    } finally {
      server.clearFaults();
    }
  });
});
