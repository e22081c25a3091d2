/**
 * The extractive answerer: no generation. It returns the retrieved sentences that best match the
 * question (BM25), in the order they appear in the documents, up to a word budget. Sentences scoring
 * under half the best one are left out: they match on common words only.
 */
import { bm25Scores } from './bm25';
import { sentences, tokenize } from './text';

export interface ExtractiveAnswer {
  text: string;
  /** The chosen sentences with their document index and score. */
  sentences: { document: number; text: string; score: number }[];
}

const RELATIVE_CUTOFF = 0.5;

export function extractiveAnswer(question: string, documents: string[], maxWords: number, maxSentences = 3): ExtractiveAnswer {
  const candidates = documents.flatMap((doc, document) => sentences(doc).map((text, position) => ({ document, position, text })));
  const scores = bm25Scores(question, candidates.map((c) => c.text));
  const ranked = candidates
    .map((c, i) => ({ ...c, score: scores[i] }))
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.document - b.document || a.position - b.position);
  const cutoff = (ranked[0]?.score ?? 0) * RELATIVE_CUTOFF;
  const chosen: typeof ranked = [];
  let words = 0;
  for (const c of ranked) {
    if (chosen.length >= maxSentences || c.score < cutoff) break;
    const length = tokenize(c.text).length;
    if (chosen.length > 0 && words + length > maxWords) continue;
    chosen.push(c);
    words += length;
  }
  chosen.sort((a, b) => a.document - b.document || a.position - b.position);
  return {
    text: chosen.map((c) => c.text).join(' '),
    sentences: chosen.map((c) => ({ document: c.document, text: c.text, score: c.score })),
  };
}
