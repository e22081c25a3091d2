/**
 * Characters a reader cannot see but a model reads: zero-width and bidirectional controls, the
 * byte-order mark, Unicode tag characters (ASCII smuggling), soft hyphens, and C0/C1 controls other
 * than tab and line breaks. A zero-width joiner between emoji builds one emoji and is allowed.
 */
import { Span } from './span';

const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\u{E0000}|[\u{E0001}-\u{E007F}]/gu;
const EMOJI_BEFORE = /\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?$/u;
const EMOJI_AFTER = /^\p{Extended_Pictographic}/u;

export function detectInvisible(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(INVISIBLE)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (m[0] === '\u200D' && EMOJI_BEFORE.test(text.slice(Math.max(0, start - 4), start)) && EMOJI_AFTER.test(text.slice(end, end + 2))) continue;
    const last = spans[spans.length - 1];
    if (last && last.end === start) last.end = end;
    else spans.push({ type: 'invisible-character', start, end });
  }
  return spans;
}
