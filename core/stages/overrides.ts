/**
 * A stage's setting for one message: the message's override (msg.payload.top_k for topK, …) when it
 * carries one, else the node's. Both are held to the limits of the setting in core/node-types.ts and
 * refused by name before any request is sent.
 */
import { ContractError } from '../contract/documents';
import { coerceParam } from '../flow-json';
import { ParamValue } from '../model';
import { nodeTypeSpec, ParamSpec } from '../node-types';

function specOf(nodeType: string, key: string): ParamSpec {
  const spec = nodeTypeSpec(nodeType)?.params.find((p) => p.key === key);
  if (!spec) throw new Error(`${nodeType} has no setting ${key}`);
  return spec;
}

/** What a numeric setting accepts, in words: "a whole number from 1 to 100000". */
function allowedNumbers(spec: ParamSpec): string {
  const what = spec.type === 'int' ? 'a whole number' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) return `${what} from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `${what} of at least ${spec.min}`;
  return spec.max !== undefined ? `${what} of at most ${spec.max}` : what;
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export function settingValue<T extends ParamValue>(nodeType: string, key: string, field: string, fromMessage: unknown, fromNode: T): T {
  const spec = specOf(nodeType, key);
  const overridden = fromMessage !== undefined && fromMessage !== null;
  const value = overridden ? fromMessage : fromNode;
  // coerceParam reads '' as "not set" (the editor's empty field); a message's '' is a mistake.
  const result = value === '' ? { error: 'must not be empty' } : coerceParam(spec, value);
  if (!('error' in result)) return result.value as T;
  const name = overridden ? `msg.payload.${field}` : field;
  const where = overridden ? '' : ` (the node's ${key} setting)`;
  const fix = overridden ? `fix msg.payload.${field}, or leave it out to use the node's ${key} setting` : `fix the node's ${key} setting`;
  if (spec.type === 'enum') throw new ContractError(`${name} ${shown(value)} is not one it knows${where}`, `use one of ${spec.values?.join(', ')}: ${fix}`);
  const problem = spec.type === 'int' || spec.type === 'number' ? `must be ${allowedNumbers(spec)}` : result.error;
  throw new ContractError(`${name} ${problem}, not ${shown(value)}${where}`, fix);
}
