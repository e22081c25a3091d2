/**
 * Token counts with OpenAI's cl100k_base encoding (js-tiktoken): the benchmark's counts when a server
 * reports no `usage`, and the guardrail's token limit. It is not the model's own tokenizer, so every
 * result that uses it names it. Loaded on first use: the ranks take a few hundred ms to build.
 */
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';

export const TOKENIZER_NAME = 'cl100k_base';

let encoder: Tiktoken | undefined;

export function countTokens(text: string): number {
  if (text === '') return 0;
  if (!encoder) {
    // The ranks are only reachable through the package's exports map, which this project's module resolution does not read for types.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Tiktoken: Encoder } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    encoder = new Encoder(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
  }
  return encoder.encode(text).length;
}
