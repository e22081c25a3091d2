/**
 * Token counts with OpenAI's cl100k_base encoding (js-tiktoken): the benchmark's counts when a server
 * reports no `usage`, and the guardrail's token limit. It is not the model's own tokenizer, so every
 * result that uses it names it. Loaded on first use: the ranks take a few hundred ms to build.
 */
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';

export const TOKENIZER_NAME = 'cl100k_base';

let encoder: Tiktoken | undefined;

function encoderOf(): Tiktoken {
  if (!encoder) {
    // The ranks are only reachable through the package's exports map, which this project's module resolution does not read for types.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Tiktoken: Encoder } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    encoder = new Encoder(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
  }
  return encoder;
}

export function countTokens(text: string): number {
  return text === '' ? 0 : encoderOf().encode(text).length;
}

/** The first `limit` tokens of `text` (cl100k_base), decoded back to text; the text itself when it is that short. */
export function truncateTokens(text: string, limit: number): string {
  const tokens = encoderOf().encode(text);
  return tokens.length <= limit ? text : encoderOf().decode(tokens.slice(0, Math.max(0, Math.floor(limit))));
}
