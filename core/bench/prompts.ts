/** Prompts from a file: JSON Lines (`.jsonl`, `.ndjson`: a string or an object per line) or plain text, one prompt per line. */
import { Prompt } from './client';

export function parsePrompts(text: string, fileName: string): Prompt[] {
  const lines = text.split(/\r?\n/).map((line, i) => ({ line: line.trim(), number: i + 1 })).filter(({ line }) => line !== '');
  if (!/\.(jsonl|ndjson)$/i.test(fileName)) return lines.map(({ line }) => line);
  return lines.map(({ line, number }) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${fileName} line ${number} is not JSON (${(err as Error).message}); write one JSON string or object per line`);
    }
    if (typeof value === 'string' || (value !== null && typeof value === 'object' && !Array.isArray(value))) return value as Prompt;
    throw new Error(`${fileName} line ${number} is neither a string nor an object`);
  });
}

/** msg.payload as prompts: an array of strings and objects, or null when it is not one. */
export function promptsFromPayload(payload: unknown): Prompt[] | null {
  if (!Array.isArray(payload) || payload.length === 0) return null;
  if (!payload.every((p) => typeof p === 'string' || (p !== null && typeof p === 'object' && !Array.isArray(p)))) return null;
  return payload as Prompt[];
}
