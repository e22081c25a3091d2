/** Text helpers shared by the embedded (offline) backends. */

/** Lowercased words: runs of Unicode letters and digits. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A Markdown ATX heading line: a title, not a sentence, so it is dropped and ends the sentence before it. */
const MARKDOWN_HEADING = /^ {0,3}#{1,6}(?:[ \t][^\n]*)?$/mu;

/** Sentences: split after . ! ? (and their full-width forms) or at blank lines and Markdown headings; trimmed, non-empty. */
export function sentences(text: string): string[] {
  return text
    .split(MARKDOWN_HEADING)
    .flatMap((block) => block.split(/(?<=[.!?\u3002\uff01\uff1f])\s+|\n\s*\n/u))
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
