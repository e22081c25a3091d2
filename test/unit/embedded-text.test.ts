import assert from 'node:assert/strict';
import { bm25Rank, bm25Scores } from '../../core/embedded/bm25';
import { extractiveAnswer } from '../../core/embedded/extractive';
import { hashingEmbed } from '../../core/embedded/hashing-embedder';
import { sentences, tokenize } from '../../core/embedded/text';

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('embedded text backends', () => {
  it('tokenizes Unicode words and splits sentences', () => {
    assert.deepEqual(tokenize("OPEA's ChatQnA, v1.5 — Ünïcode 日本"), ['opea', 's', 'chatqna', 'v1', '5', 'ünïcode', '日本']);
    assert.deepEqual(sentences('One. Two!  Three?\n\nFour'), ['One.', 'Two!', 'Three?', 'Four']);
    assert.deepEqual(sentences('# Title\nFirst line\n## Sub\nSecond. Third\n#hashtag stays'), ['First line', 'Second.', 'Third #hashtag stays']);
  });

  it('hashing embedder: unit vectors, deterministic, closer for texts sharing words', () => {
    const a = hashingEmbed('OPEA builds enterprise RAG pipelines');
    const b = hashingEmbed('RAG pipelines built with OPEA');
    const c = hashingEmbed('The weather in Lisbon is sunny');
    assert.equal(a.length, 384);
    assert.ok(Math.abs(dot(a, a) - 1) < 1e-9);
    assert.deepEqual(hashingEmbed('OPEA builds enterprise RAG pipelines'), a);
    assert.ok(dot(a, b) > 0.3, String(dot(a, b)));
    assert.ok(Math.abs(dot(a, c)) < 0.2, String(dot(a, c)));
    assert.equal(hashingEmbed('!!!', 16)[0], 1);
    assert.throws(() => hashingEmbed('x', 4), /dimensions must be a whole number from 8/);
  });

  it('BM25 ranks the document with the rare query term first and scores absent terms 0', () => {
    const docs = ['the cat sat on the mat', 'the dog chased the cat', 'gaudi accelerators run tgi', 'nothing here'];
    const ranked = bm25Rank('gaudi cat', docs);
    assert.equal(ranked[0].index, 2);
    assert.equal(bm25Scores('gaudi cat', docs)[3], 0);
    assert.deepEqual(bm25Rank('zzz', docs).map((r) => r.index), [0, 1, 2, 3]);
    assert.deepEqual(bm25Scores('x', []), []);
  });

  it('extractive answer: the best matching sentences, in document order, within the word budget, generating nothing', () => {
    const docs = [
      'OPEA is the Open Platform for Enterprise AI. It hosts GenAIComps.',
      'GMC connects microservices on Kubernetes. The router follows the GMConnector graph.',
      'Bananas are yellow.',
    ];
    const answer = extractiveAnswer('What does the GMC router follow?', docs, 40);
    assert.equal(answer.sentences[0].document, 1);
    assert.ok(answer.text.includes('The router follows the GMConnector graph.'));
    assert.ok(!answer.text.includes('Bananas'));
    for (const s of answer.sentences) assert.ok(docs[s.document].includes(s.text));
    assert.equal(extractiveAnswer('unrelated words', docs, 40).text, '');
    assert.ok(extractiveAnswer('OPEA GMC router', docs, 8).text.split(' ').length <= 9);
  });
});
