/**
 * Text normalisation shared by the lexical and retrieval metrics.
 * `normaliseAnswer` follows SQuAD v1.1's evaluate script: lowercase, drop ASCII punctuation, drop the
 * articles a/an/the as whole words, collapse whitespace.
 */

const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function normaliseAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(ASCII_PUNCTUATION, '')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '')
    .join(' ');
}

/** SQuAD tokens: the normalised answer split on whitespace. */
export function answerTokens(text: string): string[] {
  const normalised = normaliseAnswer(text);
  return normalised === '' ? [] : normalised.split(' ');
}

/** ROUGE tokens as rouge-score's default tokenizer makes them (no stemming): lowercase, runs of [a-z0-9]. */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** BLEU tokens: case kept; runs of letters/digits, and each other non-space character on its own. */
export function bleuTokens(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}
