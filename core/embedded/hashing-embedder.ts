/**
 * The hashing embedder: a lexical embedding with no model. Words and word pairs are hashed into a
 * fixed number of dimensions with a sign bit (feature hashing), weighted by 1 + log(tf), and the
 * vector is normalised. Texts sharing words land close; meaning without shared words does not.
 */
import { fnv1a, tokenize } from './text';

export const DEFAULT_HASHING_DIMENSIONS = 384;

export function hashingEmbed(text: string, dimensions = DEFAULT_HASHING_DIMENSIONS): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 65536) {
    throw new RangeError(`hashing embedder: dimensions must be a whole number from 8 to 65536, not ${dimensions}`);
  }
  const words = tokenize(text);
  const counts = new Map<string, number>();
  const count = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  words.forEach((w, i) => {
    count(w);
    if (i > 0) count(`${words[i - 1]} ${w}`);
  });
  const vector = new Array<number>(dimensions).fill(0);
  for (const [feature, tf] of counts) {
    const hash = fnv1a(feature);
    const sign = hash & 0x80000000 ? -1 : 1;
    vector[hash % dimensions] += sign * (1 + Math.log(tf));
  }
  const norm = Math.hypot(...vector);
  // An empty or symbol-only text has no words: give it a fixed direction rather than a zero vector.
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((x) => x / norm);
}
