/** Maximum length in characters (code points) and in tokens, counted with OpenAI's cl100k_base BPE. */
import { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';

export const TOKENIZER = 'cl100k_base (js-tiktoken)';

let encoder: Tiktoken | undefined;

export function countTokens(text: string): number {
  // The ranks are reachable only through the package's exports map, which this project's module resolution does not read for types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  encoder ??= new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
  return encoder.encode(text).length;
}

export interface Limits {
  /** 0: no limit. */
  maxChars: number;
  /** 0: no limit. */
  maxTokens: number;
}

export interface LimitResult {
  exceeded: { type: 'max-chars' | 'max-tokens'; detail: string }[];
  chars: number;
  /** Counted only when maxTokens is set. */
  tokens?: number;
}

export function checkLimits(text: string, limits: Limits): LimitResult {
  const chars = [...text].length;
  const result: LimitResult = { exceeded: [], chars };
  if (limits.maxChars > 0 && chars > limits.maxChars) result.exceeded.push({ type: 'max-chars', detail: `${chars} characters, at most ${limits.maxChars} allowed` });
  if (limits.maxTokens > 0) {
    result.tokens = countTokens(text);
    if (result.tokens > limits.maxTokens) result.exceeded.push({ type: 'max-tokens', detail: `${result.tokens} tokens (${TOKENIZER}), at most ${limits.maxTokens} allowed` });
  }
  return result;
}
