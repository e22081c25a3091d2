/**
 * A rail: runs the switched-on checks over every text a payload carries, and decides what happens.
 * Any finding whose check blocks blocks the message; otherwise findings whose check redacts are
 * masked in a copy of the payload; the rest are only reported.
 */
import { detectInvisible } from './characters';
import { detectInjection } from './injection';
import { checkLimits, Limits } from './limits';
import { TOKENIZER_NAME } from '../tokens';
import { BanList, detectBanned } from './lists';
import { detectPii } from './pii';
import { GuardedTurn, RemoteVerdict } from './remote';
import { JsonCheck } from './schema';
import { detectSecrets } from './secrets';
import { Position, textSlots, TextSlot, whereOf, withTexts } from './slots';
import { Span } from './span';

export type CheckName = 'pii' | 'secrets' | 'injection' | 'banned' | 'characters' | 'limits' | 'schema' | 'remote';
export type Action = 'block' | 'redact' | 'annotate';

export type RemoteCheck = (turn: GuardedTurn, signal?: AbortSignal) => Promise<RemoteVerdict[]>;

export interface RailConfig {
  position: Position;
  /** The action of each switched-on check; a check not listed is off. */
  actions: Partial<Record<CheckName, Action>>;
  banList?: BanList;
  limits?: Limits;
  jsonCheck?: JsonCheck;
  remote?: RemoteCheck;
}

export interface Finding {
  check: CheckName;
  /** What was found: email, aws-access-key-id, topic:weapons, max-tokens, Violent Crimes … */
  type: string;
  /** Which text of the payload: payload, payload.query, payload.retrieved_docs[2].text … */
  where: string;
  /** UTF-16 offsets in that text, for checks that find spans. */
  start?: number;
  end?: number;
  /** The model's category code (Llama Guard S1…S14, O1…O6), or the remote service that answered. */
  code?: string;
  detail?: string;
  action: Action;
}

export interface RailReport {
  position: Position;
  verdict: 'pass' | 'redacted' | 'blocked';
  findings: Finding[];
  /** OPEA's refusal text, when blocked. */
  violatedPolicies?: string;
  /** Counted when maxTokens is set. */
  tokens?: { count: number; tokenizer: string };
}

export interface RailResult {
  report: RailReport;
  /** The payload to pass on: the original, or a redacted copy. Unchanged when blocked. */
  payload: unknown;
}

// Pattern checks read the text as a reader sees it, so a zero-width space cannot split "ign\u200Bore" or an e-mail address.
const DETECTORS: Record<'pii' | 'secrets' | 'injection' | 'banned', (text: string, config: RailConfig) => Span[]> = {
  pii: (text) => detectPii(text),
  secrets: (text) => detectSecrets(text),
  injection: (text) => detectInjection(text),
  banned: (text, config) => (config.banList ? detectBanned(config.banList, text) : []),
};

/** The text without its invisible characters, and for each visible character its index in the original. */
function visible(text: string, invisible: Span[]): { text: string; origin: number[] } {
  const origin: number[] = [];
  let out = '';
  let at = 0;
  for (const span of [...invisible, { type: '', start: text.length, end: text.length }]) {
    for (let i = at; i < span.start; i++) origin.push(i);
    out += text.slice(at, span.start);
    at = span.end;
  }
  return { text: out, origin };
}

/** Invisible characters are removed; everything else is replaced by a mask naming what it was. */
function maskOf(f: Finding): string {
  return f.check === 'characters' ? '' : `[REDACTED:${f.type}]`;
}

/** Masks the spans (overlapping ones merged, keeping the first mask that says something). */
export function redact(text: string, findings: Finding[]): string {
  const spans = findings.filter((f) => f.start !== undefined && f.end !== undefined).sort((a, b) => a.start! - b.start!);
  const merged: { start: number; end: number; mask: string }[] = [];
  for (const f of spans) {
    const last = merged[merged.length - 1];
    if (last && f.start! < last.end) {
      last.end = Math.max(last.end, f.end!);
      last.mask ||= maskOf(f);
    } else merged.push({ start: f.start!, end: f.end!, mask: maskOf(f) });
  }
  let out = '';
  let at = 0;
  for (const m of merged) {
    out += text.slice(at, m.start) + m.mask;
    at = m.end;
  }
  return out + text.slice(at);
}

/** "Violated policies: pii (email, iban), Violent Crimes, please check your input." — OPEA's refusal wording. */
export function violatedPolicies(findings: Finding[]): string {
  const policies: string[] = [];
  const byCheck = new Map<string, Set<string>>();
  for (const f of findings) {
    if (f.check === 'remote') {
      if (!policies.includes(f.type)) policies.push(f.type);
      continue;
    }
    if (!byCheck.has(f.check)) {
      byCheck.set(f.check, new Set());
      policies.push(f.check);
    }
    byCheck.get(f.check)!.add(f.type);
  }
  const text = policies.map((p) => (byCheck.has(p) ? `${p} (${[...byCheck.get(p)!].join(', ')})` : p)).join(', ');
  return `Violated policies: ${text}, please check your input.`;
}

function turnOf(payload: unknown, slot: TextSlot, position: Position): GuardedTurn {
  const prompt = payload && typeof payload === 'object' ? (payload as { prompt?: unknown }).prompt : undefined;
  if (position === 'output' && typeof prompt === 'string' && slot.path.length === 1 && slot.path[0] === 'text') return { user: prompt, assistant: slot.text };
  return { user: slot.text };
}

async function checkSlot(config: RailConfig, payload: unknown, slot: TextSlot, signal?: AbortSignal): Promise<{ findings: Finding[]; tokens?: number }> {
  const where = whereOf(slot.path);
  const findings: Finding[] = [];
  const invisible = detectInvisible(slot.text);
  if (config.actions.characters) for (const s of invisible) findings.push({ check: 'characters', type: s.type, where, start: s.start, end: s.end, action: config.actions.characters });
  const seen = visible(slot.text, invisible);
  for (const [check, detect] of Object.entries(DETECTORS) as [CheckName, (t: string, c: RailConfig) => Span[]][]) {
    const action = config.actions[check];
    if (!action) continue;
    for (const s of detect(seen.text, config)) findings.push({ check, type: s.type, where, start: seen.origin[s.start], end: seen.origin[s.end - 1] + 1, action });
  }
  let tokens: number | undefined;
  if (config.actions.limits && config.limits) {
    const result = checkLimits(slot.text, config.limits);
    tokens = result.tokens;
    for (const e of result.exceeded) findings.push({ check: 'limits', type: e.type, where, detail: e.detail, action: config.actions.limits });
  }
  if (config.actions.schema && config.jsonCheck) {
    const problem = config.jsonCheck(slot.text);
    if (problem) findings.push({ check: 'schema', type: 'json-schema', where, detail: problem, action: config.actions.schema });
  }
  if (config.actions.remote && config.remote) {
    for (const verdict of await config.remote(turnOf(payload, slot, config.position), signal)) {
      // A bare "unsafe" still counts: a verdict without categories must not pass as clean.
      const categories: RemoteVerdict['categories'] = verdict.flagged && verdict.categories.length === 0 ? [{ name: `${verdict.service} (no category given)` }] : verdict.categories;
      for (const c of categories) findings.push({ check: 'remote', type: c.name, where, code: c.code ?? verdict.service, action: config.actions.remote });
    }
  }
  return { findings: findings.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity)), tokens };
}

export async function runRail(config: RailConfig, payload: unknown, signal?: AbortSignal): Promise<RailResult> {
  const slots = textSlots(payload, config.position);
  const results = await Promise.all(slots.map((slot) => checkSlot(config, payload, slot, signal)));
  const findings = results.flatMap((r) => r.findings);
  const report: RailReport = { position: config.position, verdict: 'pass', findings };
  if (results.some((r) => r.tokens !== undefined)) report.tokens = { count: results.reduce((n, r) => n + (r.tokens ?? 0), 0), tokenizer: TOKENIZER_NAME };
  const blocking = findings.filter((f) => f.action === 'block');
  if (blocking.length > 0) {
    report.verdict = 'blocked';
    report.violatedPolicies = violatedPolicies(blocking);
    return { report, payload };
  }
  const replaced = slots.flatMap((slot, i) => {
    const redactions = results[i].findings.filter((f) => f.action === 'redact');
    return redactions.length > 0 ? [{ path: slot.path, text: redact(slot.text, redactions) }] : [];
  });
  if (replaced.length === 0) return { report, payload };
  report.verdict = 'redacted';
  return { report, payload: withTexts(payload, replaced) };
}
