/**
 * The step conditions the exporter writes, and how to read them back. GMC's router (GenAIInfra v1.1
 * cmd/router/main.go) evaluates a condition with gjson (tidwall/gjson; Debian's 1.14 builds the router
 * in the tests):
 * - in a Switch node, on the client's request: a step runs when the path exists, or when the
 *   condition is `key==value` and the request's key equals value (pickupRouteByCondition, l.122-157);
 *   every matching step runs, so a default branch must match exactly when no rule does;
 * - in a Sequence node, on the previous step's answer: when the path does not exist, the sequence
 *   stops (handleSequencePipeline, l.491-496). It returns that answer after having read and closed it
 *   (l.472-479), so the client gets HTTP 500 "failed to read from response body" (l.580-583): the
 *   status, not the body, tells a refusal.
 */

/**
 * What the router's `key==value` matcher can compare: it splits at '==' and reads `key` with gjson,
 * but gives up on any condition containing '.' or '#', and trims spaces.
 */
export const CONDITION_KEY = /^[A-Za-z0-9_-]{1,63}$/;
export const CONDITION_VALUE = /^[A-Za-z0-9_:/+-]{1,63}$/;

/**
 * Holds when the answer of OPEA's guardrails service (GenAIComps v1.1
 * comps/guardrails/llama_guard/langchain/guardrails_tgi.py l.76-88) is not its refusal, whose text
 * starts "Violated policies". The router ignores the downstream_black_list the refusal also sets.
 */
export const RAIL_PASSED = '[@this].#(text!%"Violated policies*")';

/** What a missing key reads as in a default branch's condition: with a space, so no rule value (CONDITION_VALUE) equals it. */
const UNSET = 'no value';

export function equalsCondition(key: string, value: string): string {
  return `${key}==${value}`;
}

/**
 * Holds when the request's key is missing or equals none of `values`: the key (or UNSET when it is
 * missing) is put in a one-element array, which each `#(!="v")#` query keeps only while it differs
 * from v; the last query without `#` exists only when an element is left.
 */
export function otherwiseCondition(key: string, values: readonly string[]): string {
  const tests = values.map((v, i) => `#(!="${v}")${i < values.length - 1 ? '#' : ''}`);
  return [`[[${key},!"${UNSET}"].0]`, ...tests].join('|');
}

export type ParsedCondition =
  | { type: 'equals'; key: string; value: string }
  | { type: 'otherwise'; key: string; values: string[] }
  | { type: 'rail-passed' };

/** Reads a condition this exporter writes (or a plain key==value of OPEA's samples); null for any other. */
export function parseCondition(condition: string): ParsedCondition | null {
  if (condition === RAIL_PASSED) return { type: 'rail-passed' };
  const otherwise = /^\[\[([^,]+),!"no value"\]\.0\]((?:\|#\(!="[^"]*"\)#?)+)$/.exec(condition);
  if (otherwise && CONDITION_KEY.test(otherwise[1])) {
    const values = [...otherwise[2].matchAll(/#\(!="([^"]*)"\)/g)].map((m) => m[1]);
    if (values.every((v) => CONDITION_VALUE.test(v)) && otherwiseCondition(otherwise[1], values) === condition) {
      return { type: 'otherwise', key: otherwise[1], values };
    }
    return null;
  }
  const [key, value, ...rest] = condition.split('==');
  if (rest.length > 0 || !CONDITION_KEY.test(key ?? '') || !CONDITION_VALUE.test(value ?? '')) return null;
  return { type: 'equals', key, value };
}
