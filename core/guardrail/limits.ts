/** Maximum length in characters (code points) and in tokens, counted with OpenAI's cl100k_base BPE. */
import { countTokens, TOKENIZER_NAME } from '../tokens';

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
    if (result.tokens > limits.maxTokens) result.exceeded.push({ type: 'max-tokens', detail: `${result.tokens} tokens (${TOKENIZER_NAME}), at most ${limits.maxTokens} allowed` });
  }
  return result;
}
