/**
 * Ban lists: words or phrases (one per line) and topics (`topic: keyword, keyword`), matched
 * case-insensitively on whole words, so a banned "ass" does not match "class".
 */
import { Span } from './span';

export interface BanList {
  /** Each entry: what a finding is called, and the pattern of its words. */
  entries: { type: string; pattern: RegExp }[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function wholeWords(phrases: string[]): RegExp {
  const alternatives = phrases.map((p) => p.trim().split(/\s+/).map(escape).join('\\s+')).sort((a, b) => b.length - a.length);
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/** Reads the two settings; throws with the line that cannot be read. */
export function parseBanList(words: string, topics: string): BanList {
  const entries: BanList['entries'] = [];
  const banned = lines(words);
  if (banned.length > 0) entries.push({ type: 'word', pattern: wholeWords(banned) });
  for (const line of lines(topics)) {
    const colon = line.indexOf(':');
    const name = (colon === -1 ? line : line.slice(0, colon)).trim();
    const keywords = colon === -1 ? [name] : line.slice(colon + 1).split(',').map((k) => k.trim()).filter(Boolean);
    if (name === '' || keywords.length === 0) throw new Error(`bannedTopics line '${line}' needs a topic and keywords: write it as topic: keyword, keyword`);
    entries.push({ type: `topic:${name}`, pattern: wholeWords(keywords) });
  }
  return { entries };
}

export function detectBanned(list: BanList, text: string): Span[] {
  const spans: Span[] = [];
  for (const { type, pattern } of list.entries) {
    for (const m of text.matchAll(pattern)) spans.push({ type, start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
  }
  return spans.sort((a, b) => a.start - b.start);
}
