/**
 * Results kept over time: each evaluation or benchmark run appends one JSON line to `eval.jsonl` or
 * `bench.jsonl` in a results folder. A line is written with one append (O_APPEND) and synced before the
 * call returns; a line torn by a crash is skipped when read, and the next append starts on a new line,
 * so it never joins a torn one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type RecordKind = 'eval' | 'bench';

export interface ResultRecord {
  kind: RecordKind;
  /** ISO 8601. */
  time: string;
  /** What the trend is drawn for: the flow file and tab, the evaluator node, the benchmark target. */
  pipeline: string;
  /** sha256 of the pipeline's nodes (their settings, not their places on the canvas). */
  flowHash?: string;
  /** backend:model of each model the pipeline calls, as `llm tgi:Intel/neural-chat-7b-v3-3`. */
  models: string[];
  settings: Record<string, unknown>;
  /** sha256 of the dataset's rows (or the benchmark's prompts). */
  datasetHash?: string;
  /** Metric means; null for a metric no row could be scored on. */
  metrics: Record<string, number | null>;
}

export const RESULT_FILES: Record<RecordKind, string> = { eval: 'eval.jsonl', bench: 'bench.jsonl' };

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so that the same content hashes the same whatever its key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** Node properties that place a node on the canvas without changing what it does. */
const LAYOUT_KEYS = new Set(['x', 'y', 'w', 'h', 'l', 'g', 'info']);

/** sha256 of flow nodes without their layout, sorted by id: moving a node keeps the hash, changing a setting does not. */
export function flowHash(nodes: readonly Record<string, unknown>[]): string {
  const kept = nodes.map((n) => Object.fromEntries(Object.entries(n).filter(([k]) => !LAYOUT_KEYS.has(k)))).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return sha256(canonicalJson(kept));
}

/** Metric means as JSON can hold them: NaN (nothing scored) becomes null. */
export function finiteOrNull(metrics: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}

/** Appends the record and syncs it to disk; creates the folder. Returns the file written. */
export function appendRecord(dir: string, record: ResultRecord): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RESULT_FILES[record.kind]);
  const fd = fs.openSync(file, 'a+');
  try {
    const size = fs.fstatSync(fd).size;
    let torn = false;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      torn = last[0] !== 0x0a;
    }
    fs.writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function isRecord(value: unknown, kind: RecordKind): value is ResultRecord {
  const r = value as ResultRecord;
  return !!r && typeof r === 'object' && r.kind === kind && typeof r.time === 'string' && typeof r.pipeline === 'string' && !!r.metrics && typeof r.metrics === 'object';
}

/** The records of a kind, oldest first; `skipped` counts lines that are not records (a torn last line). */
export function readRecords(dir: string, kind: RecordKind): { records: ResultRecord[]; skipped: number } {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, RESULT_FILES[kind]), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0 };
    throw err;
  }
  const records: ResultRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isRecord(value, kind)) records.push(value);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/** The earlier runs of the same pipeline on the same dataset, oldest first: the runs whose metrics compare. */
export function trendOf(records: readonly ResultRecord[], like: Pick<ResultRecord, 'pipeline' | 'datasetHash'>): ResultRecord[] {
  return records.filter((r) => r.pipeline === like.pipeline && r.datasetHash === like.datasetHash);
}
