/**
 * OPEA GenAIComps 1.1 stand-ins (../shared/peers/opea-v1.1/fakes.py, with the corrections of
 * opea11_stand_ins.py) on this machine's loopback, each on a free port, every request logged.
 * The process ends when stop() closes its stdin, or when the test process dies.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from '../reference';

export const PEERS_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'peers');
export const FAKES_PY = path.join(PEERS_DIR, 'opea-v1.1', 'fakes.py');
export const STAND_INS_PY = path.join(REPO_ROOT, 'test', 'support', 'peers', 'opea11_stand_ins.py');

export type StandInRole = 'embedding' | 'retriever' | 'reranking' | 'llm' | 'dataprep' | 'guardrail';

/** Where each role listens and the path it serves (fakes.py ROLES; GenAIComps 1.1 defaults). */
export const ROLE_PATHS: Record<StandInRole, string> = {
  embedding: '/v1/embeddings',
  retriever: '/v1/retrieval',
  reranking: '/v1/reranking',
  llm: '/v1/chat/completions',
  dataprep: '/v1/dataprep',
  guardrail: '/v1/guardrails',
};

export interface StandInSpec {
  role: StandInRole;
  /** Name the stand-in puts into its answers and its log records. */
  name: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

/** One request a stand-in received (a line of its log). */
export interface HopRecord {
  t: number;
  service: string;
  role: StandInRole;
  path: string;
  content_type: string | null;
  /** The raw request body (cut at 700 characters). */
  request: string;
  /** The pydantic model the body was parsed as (LLMParamsDoc, SearchedDoc, ...). */
  parsed_as?: string;
  status: number;
  response_content_type: string;
  response: string;
  /** The request as the handler acts on it: the validated model with its defaults (null for multipart). */
  effective: Record<string, unknown> | null;
}

export interface StandIns {
  /** name -> base URL (http://host:port) */
  base: Record<string, string>;
  /** name -> URL of the endpoint the role serves */
  url: Record<string, string>;
  /** Every request received so far, in order. */
  log(): HopRecord[];
  stop(): Promise<void>;
}

/** Starts the stand-ins in a child process and resolves once every one listens. */
export async function startStandIns(specs: StandInSpec[], options: { timeoutMs?: number } = {}): Promise<StandIns> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea11-'));
  const specFile = path.join(dir, 'spec.json');
  const logFile = path.join(dir, 'log.jsonl');
  fs.writeFileSync(specFile, JSON.stringify(specs.map((s) => ({ role: s.role, name: s.name, host: s.host ?? '127.0.0.1', port: s.port ?? 0 }))));
  fs.writeFileSync(logFile, '');
  const child = spawn('python3', [STAND_INS_PY, FAKES_PY, specFile, logFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ready = await readReady(child, options.timeoutMs ?? 20_000);
  const base: Record<string, string> = {};
  const url: Record<string, string> = {};
  for (const s of ready) {
    base[s.name] = `http://${s.host}:${s.port}`;
    url[s.name] = `${base[s.name]}${ROLE_PATHS[s.role]}`;
  }
  return {
    base,
    url,
    log: () => readLog(logFile),
    stop: async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function readLog(file: string): HopRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as HopRecord);
}

/** Waits for the child's JSON line {"ready": ...}; rejects with its stderr when it exits or times out first. */
export function readReady<T = Required<StandInSpec>[]>(child: ChildProcess, timeoutMs: number, what = 'the stand-ins'): Promise<T> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`${what} did not start within ${timeoutMs} ms`), timeoutMs);
    // 'close', not 'exit': by then stderr, which says why, has been read to its end.
    child.once('close', (code, signal) => fail(`${what} exited (${code ?? signal}) before ready`));
    child.once('error', (err) => fail(`${what} could not start: ${err.message}`));
    lines.on('line', (line) => {
      let parsed: { ready?: T };
      try {
        parsed = JSON.parse(line) as { ready?: T };
      } catch {
        return;
      }
      if (!parsed.ready) return;
      clearTimeout(timer);
      child.removeAllListeners('close');
      child.removeAllListeners('error');
      resolve(parsed.ready);
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/**
 * The events of a GenAIComps 1.1 LLM stream: each piece of text as the service sends it, `data: ` and
 * Python's repr of its UTF-8 bytes (`b'...'`; comps/llms/text-generation/tgi/llm.py l.117-120), then
 * `[DONE]` as it is (l.124).
 */
export function streamedEvents(sse: string): string[] {
  return sse
    .split('\n\n')
    .filter((event) => event.trim() !== '')
    .map((event) => event.replace(/^data: ?/, ''))
    .map((data) => (data === '[DONE]' ? data : pythonBytes(data)));
}

function pythonBytes(repr: string): string {
  const literal = /^b(['"])(.*)\1$/s.exec(repr);
  if (!literal) throw new Error(`not a Python bytes literal: ${repr}`);
  const body = literal[2];
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      bytes.push(body.charCodeAt(i));
      continue;
    }
    const escaped = body[++i];
    if (escaped === 'x') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(({ n: 10, r: 13, t: 9 } as Record<string, number>)[escaped] ?? escaped.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
