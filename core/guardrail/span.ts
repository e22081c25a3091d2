/** A stretch of a text a check found, in UTF-16 offsets (JavaScript string indices), end exclusive. */
export interface Span {
  type: string;
  start: number;
  end: number;
}

/** Every match of a global regex as a span; `accept` can veto a match (checksums, ranges). */
export function matchSpans(text: string, pattern: RegExp, type: string, accept: (match: RegExpExecArray) => boolean = () => true): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(pattern)) {
    if (m[0] === '' || !accept(m as RegExpExecArray)) continue;
    spans.push({ type, start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
  }
  return spans;
}

/** Joins spans from detectors run in priority order: a span overlapping an earlier one is dropped. */
export function firstWins(groups: Span[][]): Span[] {
  const kept: Span[] = [];
  for (const group of groups) {
    for (const s of group) if (!kept.some((k) => s.start < k.end && k.start < s.end)) kept.push(s);
  }
  return kept.sort((a, b) => a.start - b.start);
}
