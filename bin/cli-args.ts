/**
 * Command-line options read with node:util's parseArgs, its errors said so a person can act on them:
 * an unknown option is named with the closest known one, a missing value with its option.
 */
import { parseArgs } from 'node:util';

/** Bad arguments: the message says what is wrong; the caller prints it with a pointer to --help, exit 2. */
export class UsageError extends Error {}

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character each cost 1. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known word `given` most likely misspells: one it begins, else the nearest within a third of its
 * length (at least one edit); undefined when nothing is that close.
 */
export function closest(given: string, known: readonly string[]): string | undefined {
  const word = given.toLowerCase();
  if (word.length >= 2) {
    const extended = known.find((k) => k.startsWith(word));
    if (extended) return extended;
  }
  let best: { word: string; edits: number } | undefined;
  for (const k of known) {
    const edits = distance(word, k);
    if (!best || edits < best.edits) best = { word: k, edits };
  }
  return best && best.edits <= Math.max(1, Math.floor(word.length / 3)) ? best.word : undefined;
}

/** What parseArgs threw, said with the option's name and the closest known option. */
function explain(err: Error & { code?: string }, options: Record<string, OptionSpec>): string {
  const quoted = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  const name = quoted.replace(/^-+/, '').replace(/=.*$/, '');
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const long = Object.keys(options);
    const shorts = Object.entries(options).filter(([, o]) => o.short).map(([k, o]) => [o.short as string, k]);
    const isShort = /^-[^-]/.test(quoted);
    const guess = isShort ? shorts.find(([s]) => s.toLowerCase() === name.toLowerCase())?.[1] ?? closest(name, long) : closest(name, long);
    return `unknown option ${quoted}${guess ? `: did you mean --${guess}?` : ''}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = Object.entries(options).find(([k, o]) => k === name || o.short === name);
    if (option?.[1].type === 'boolean') return `--${option[0]} takes no value`;
    return `--${option?.[0] ?? name} needs a value`;
  }
  return err.message;
}

/** parseArgs with positionals allowed; throws UsageError with a message a person can act on. */
export function readArgs<O extends Record<string, OptionSpec>>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    throw new UsageError(explain(e, options));
  }
}

/** The lines a usage error prints: what is wrong, then where the full usage is (never the whole usage). */
export function usageErrorText(command: string, message: string): string {
  return `${command}: ${message}\nRun opea-flow --help for the commands and their options.\n`;
}
