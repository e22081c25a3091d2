/**
 * Okapi BM25 over a small candidate set (the documents a retriever returned), for the lexical
 * reranker and the extractive answerer. IDF uses the candidates themselves, with the +1 smoothing
 * that keeps it positive.
 */
import { tokenize } from './text';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export function bm25Scores(query: string, documents: string[], k1 = BM25_K1, b = BM25_B): number[] {
  const docs = documents.map(tokenize);
  const n = docs.length;
  if (n === 0) return [];
  const avgLength = docs.reduce((sum, d) => sum + d.length, 0) / n || 1;
  const terms = [...new Set(tokenize(query))];
  const df = new Map(terms.map((t) => [t, docs.filter((d) => d.includes(t)).length]));
  return docs.map((words) => {
    const tf = new Map<string, number>();
    for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
    let score = 0;
    for (const term of terms) {
      const f = tf.get(term) ?? 0;
      if (f === 0) continue;
      const docFreq = df.get(term) ?? 0;
      const idf = Math.log(1 + (n - docFreq + 0.5) / (docFreq + 0.5));
      score += (idf * (f * (k1 + 1))) / (f + k1 * (1 - b + (b * words.length) / avgLength));
    }
    return score;
  });
}

/** Indices of the documents, best BM25 score first; ties keep the retriever's order. */
export function bm25Rank(query: string, documents: string[]): { index: number; score: number }[] {
  return bm25Scores(query, documents)
    .map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}
