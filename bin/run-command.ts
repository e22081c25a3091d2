/**
 * `opea-flow run`: starts an embedded Node-RED (no editor, flows in memory, the file untouched), posts
 * the input to the flow's `http in` entry, prints the answer as JSON and stops. Any node error fails
 * the run with that error.
 */
import fs from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import { importNodeRedFlow } from '../core/flow-json';
import { oneLine } from '../core/problems';
import { RuntimeStartError, startRuntime } from './embedded-runtime';

export interface RunOptions {
  input: string;
  tab?: string;
  entry?: string;
  credentials?: string;
  userDir?: string;
  timeoutMs: number;
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

type RawNode = Record<string, unknown> & { id: string; type: string };

const PACK_TYPES = new Set(Object.keys((JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes));

function readJsonArgument(value: string, what: string): unknown {
  const text = value.startsWith('@') ? readFile(value.slice(1), what) : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RunError(`${what} is not JSON (${(err as Error).message}); quote a string as '"text"'`, 2);
  }
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RunError(`cannot read ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 2);
  }
}

/** The http in node the input goes to: --entry's URL, else the entry of the pipeline the exporter would take. */
export function chooseEntry(flow: RawNode[], options: Pick<RunOptions, 'tab' | 'entry'>): string {
  const entries = flow.filter((n) => n.type === 'http in' && n.d !== true && String(n.method ?? 'get').toLowerCase() === 'post');
  if (options.entry !== undefined) {
    const wanted = options.entry.startsWith('/') ? options.entry : `/${options.entry}`;
    const found = entries.find((n) => n.url === wanted);
    if (!found) throw new RunError(`no POST http in node has the URL ${wanted}; the flow has ${entries.map((n) => String(n.url)).join(', ') || 'none'}`, 2);
    return wanted;
  }
  const { graph, problems } = importNodeRedFlow(flow, { tab: options.tab });
  const entry = graph.entries[0];
  if (!entry) {
    const why = problems.items[0] ? `: ${problems.items[0].message}` : '';
    throw new RunError(`the flow has no pipeline with a POST http in entry${why}; add one, or name it with --entry URL`, 2);
  }
  return entry.path.startsWith('/') ? entry.path : `/${entry.path}`;
}

/** Errors of our own nodes already name the node; core nodes' errors get its type, name and id. */
export function describeNode(flow: RawNode[], id: string): string {
  const node = flow.find((n) => n.id === id);
  if (!node) return `node ${id}`;
  return `${node.type}${node.name ? ` "${String(node.name)}"` : ''} (${id})`;
}

/** The error an answer carries: the examples' error path answers {"error": "<node>: <what failed>"}. */
function errorOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON: the body as it is
  }
  return body;
}

/** Refuses opea- node types this release does not have, before a runtime is started for them. */
export function checkPackTypes(flow: RawNode[]): void {
  const unknownTypes = [...new Set(flow.map((n) => n.type).filter((t) => typeof t === 'string' && t.startsWith('opea-') && !PACK_TYPES.has(t)))];
  if (unknownTypes.length > 0) throw new RunError(`this release of node-red-contrib-opea has no node type ${unknownTypes.join(', ')}; remove those nodes or upgrade`, 2);
}

/**
 * Posts the input to an http in entry of a started runtime and returns the answer (JSON when it parses).
 * Waits for the entry's route, which appears as the flows start; an error answer is a RunError.
 */
export async function postToEntry(runtimeUrl: string, entryPath: string, input: unknown, signal?: AbortSignal): Promise<unknown> {
  // Node-RED's JSON body parser takes only objects and arrays, so a JSON string goes as text: msg.payload is that string.
  const [body, contentType] = typeof input === 'string' ? [input, 'text/plain; charset=utf-8'] : [JSON.stringify(input), 'application/json'];
  for (let attempt = 0; ; attempt++) {
    const response = await axios.post(`${runtimeUrl}${entryPath}`, body, { headers: { 'content-type': contentType }, validateStatus: () => true, responseType: 'text', transformResponse: (x: string) => x, proxy: false, signal });
    if (response.status === 404 && attempt < 100) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (response.status >= 400) throw new RunError(`${entryPath} answered HTTP ${response.status}: ${oneLine(errorOf(String(response.data)), 600)}`, 1);
    try {
      return JSON.parse(response.data) as unknown;
    } catch {
      return response.data as unknown;
    }
  }
}

export async function runFlow(flow: RawNode[], options: RunOptions): Promise<unknown> {
  checkPackTypes(flow);
  const entryPath = chooseEntry(flow, options);
  const input = readJsonArgument(options.input, '--input');
  const credentials = options.credentials === undefined ? {} : (readJsonArgument(`@${options.credentials}`, '--credentials') as Record<string, Record<string, string>>);

  let failNode: (error: RunError) => void = () => undefined;
  const nodeFailed = new Promise<never>((_, reject) => (failNode = reject));
  nodeFailed.catch(() => undefined);
  const runtime = await startRuntime({
    flow,
    credentials,
    userDir: options.userDir,
    onNodeError: (error, nodeId) => failNode(new RunError(oneLine(error.includes(nodeId) ? error : `${describeNode(flow, nodeId)}: ${error}`, 600), 1)),
  }).catch((err: Error) => {
    throw err instanceof RuntimeStartError ? new RunError(err.message, 2) : err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RunError(`no answer within ${options.timeoutMs / 1000} s from ${entryPath}; raise --timeout or check the flow ends in an http response node`, 1)), options.timeoutMs);
    });
    const call = (async () => {
      await runtime.settled();
      return postToEntry(runtime.url, entryPath, input);
    })();
    call.catch(() => undefined);
    return await Promise.race([call, nodeFailed, timedOut]);
  } finally {
    clearTimeout(timer);
    await runtime.stop();
  }
}
