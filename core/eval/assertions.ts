/**
 * Checks on each answer, given as a JSON list in the node: contains / not-contains a text, matches a
 * regular expression, or is JSON valid against a JSON Schema (ajv). Each scores 1 (pass) or 0 (fail).
 */
import Ajv from 'ajv';
import { isObject } from '../clients/wire';

export type AssertionSpec =
  | { type: 'contains' | 'not-contains'; value: string; ignoreCase?: boolean; name?: string }
  | { type: 'regex'; pattern: string; flags?: string; name?: string }
  | { type: 'json-schema'; schema: Record<string, unknown>; name?: string };

export interface Assertion {
  /** The metric name it reports under: `assert:<name>`. */
  name: string;
  check(answer: string): boolean;
}


function compileOne(spec: unknown, i: number, ajv: Ajv): Assertion {
  const where = `assertion ${i + 1}`;
  if (!isObject(spec)) throw new Error(`${where} is not an object like {"type": "contains", "value": "Paris"}`);
  const name = typeof spec.name === 'string' && spec.name !== '' ? spec.name : undefined;
  if (spec.type === 'contains' || spec.type === 'not-contains') {
    if (typeof spec.value !== 'string' || spec.value === '') throw new Error(`${where} (${spec.type}) needs a non-empty "value"`);
    const fold = spec.ignoreCase === true ? (s: string) => s.toLowerCase() : (s: string) => s;
    const needle = fold(spec.value);
    const wanted = spec.type === 'contains';
    return { name: name ?? `${spec.type} ${spec.value}`, check: (answer) => fold(answer).includes(needle) === wanted };
  }
  if (spec.type === 'regex') {
    if (typeof spec.pattern !== 'string') throw new Error(`${where} (regex) needs a "pattern"`);
    let re: RegExp;
    try {
      re = new RegExp(spec.pattern, typeof spec.flags === 'string' ? spec.flags.replace(/g|y/g, '') : '');
    } catch (err) {
      throw new Error(`${where} (regex): ${(err as Error).message}`);
    }
    return { name: name ?? `regex ${spec.pattern}`, check: (answer) => re.test(answer) };
  }
  if (spec.type === 'json-schema') {
    if (!isObject(spec.schema)) throw new Error(`${where} (json-schema) needs a "schema" object`);
    let validate: ReturnType<Ajv['compile']>;
    try {
      validate = ajv.compile(spec.schema);
    } catch (err) {
      throw new Error(`${where} (json-schema): the schema is invalid (${(err as Error).message})`);
    }
    return {
      name: name ?? 'json-schema',
      check: (answer) => {
        try {
          return validate(JSON.parse(answer)) === true;
        } catch {
          return false;
        }
      },
    };
  }
  throw new Error(`${where} has type ${JSON.stringify(spec.type)}; use contains, not-contains, regex or json-schema`);
}

/** Compiles the node's assertion list; throws naming the assertion that is wrong. */
export function compileAssertions(specs: unknown): Assertion[] {
  if (!Array.isArray(specs)) throw new Error('assertions must be a JSON list, as [{"type": "contains", "value": "Paris"}]');
  const ajv = new Ajv({ allErrors: false, strict: false });
  const assertions = specs.map((s, i) => compileOne(s, i, ajv));
  const seen = new Set<string>();
  for (const a of assertions) {
    if (seen.has(a.name)) throw new Error(`two assertions are named '${a.name}': give one a "name"`);
    seen.add(a.name);
  }
  return assertions;
}
