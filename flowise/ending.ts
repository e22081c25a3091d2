/** What the ending nodes (exporter, evaluator, benchmark) share. */
import { INodeParams } from './interface';

/** Flowise stores a multiOptions value as a JSON array string (or an array, or one name). */
export function listInput(value: unknown, fallback: string[]): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value.trim() !== '') {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // one name, or comma separated
    }
    return value.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return fallback;
}

/**
 * Ending nodes sit in category Chains: Flowise accepts a chatflow's last node only when it is a
 * chain, agent or engine (or a node whose output is named EndingNode), then calls init() on it like
 * on every node, and run() with the question.
 */
export const ENDING_CATEGORY = 'Chains';

export const number = (label: string, name: string, def: number, extra: Partial<INodeParams> = {}): INodeParams => ({ label, name, type: 'number', default: def, optional: true, ...extra });

export const fmt = (n: number | null | undefined, digits = 1): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–');
