// The retriever keeps the metadata GenAIComps 1.5's retriever sends, also when its list is shorter than the documents.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createEndpoint } from '../../core/clients/endpoint';
import { retrieveRemote } from '../../core/clients/retrieval';
import { closeServer, listenLoopback } from '../support/loopback';

interface Hit {
  page_content: string;
  metadata: Record<string, unknown>;
}

/**
 * POST /v1/retrieval as GenAIComps v1.5 answers an EmbedDoc (comps/retrievers/src/opea_retrievers_microservice.py:80-94):
 * a SearchedMultimodalDoc (docarray.py:135-145) whose `metadata` list gets a document's metadata only when it has any
 * (l.89-90), beside TextDocs without metadata (l.91).
 */
async function retriever(hits: Hit[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string };
      const body = {
        id: 'x',
        retrieved_docs: hits.map((h, i) => ({ id: `d${i}`, text: h.page_content, downstream_black_list: [] })),
        initial_query: input.text,
        top_n: 1,
        metadata: hits.filter((h) => Object.keys(h.metadata).length > 0).map((h) => h.metadata),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  return { url: await listenLoopback(server), close: () => closeServer(server) };
}

const retrieve = (url: string) => retrieveRemote(createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true }), { text: 'q', embedding: [1, 0] });

describe('retriever metadata from GenAIComps 1.5', () => {
  it('a list as long as the documents: each document gets its own', async () => {
    const s = await retriever([
      { page_content: 'a', metadata: { source: 'a.md' } },
      { page_content: 'b', metadata: { source: 'b.md' } },
    ]);
    try {
      const doc = await retrieve(s.url);
      assert.deepEqual(doc.retrieved_docs, [
        { text: 'a', metadata: { source: 'a.md' } },
        { text: 'b', metadata: { source: 'b.md' } },
      ]);
      assert.equal(doc.metadata, undefined);
    } finally {
      await s.close();
    }
  });

  it('a shorter list (a document without metadata left out) is kept whole, and given to no document by guesswork', async () => {
    const s = await retriever([
      { page_content: 'no metadata here', metadata: {} },
      { page_content: 'b', metadata: { source: 'b.md' } },
      { page_content: 'c', metadata: { source: 'c.md', page: 3 } },
    ]);
    try {
      const doc = await retrieve(s.url);
      assert.deepEqual(doc.metadata, [{ source: 'b.md' }, { source: 'c.md', page: 3 }]);
      // Matched by position, b's metadata would land on the first document.
      assert.deepEqual(doc.retrieved_docs, [{ text: 'no metadata here' }, { text: 'b' }, { text: 'c' }]);
    } finally {
      await s.close();
    }
  });
});
