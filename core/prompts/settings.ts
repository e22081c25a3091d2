/** Checks of the opea-llm prompt settings, for core/node-types.ts: what is wrong, in words, or undefined. */
import { PromptCache, PROMPT_VARIABLES } from './template';

/** Templates compiled once per process: a node's templates are compiled when its settings are checked and taken from here. */
export const PROMPTS = new PromptCache(256);

/** The template's error with its line and column, or undefined when it compiles. */
export function promptTemplateProblem(source: string): string | undefined {
  try {
    PROMPTS.get(source);
    return undefined;
  } catch (err) {
    return `has a ${(err as Error).message}`;
  }
}

/** The message properties a template may name: `topic, user` → ['topic', 'user']. */
export function variableNames(list: string): string[] {
  return list.split(/[\s,]+/).filter(Boolean);
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Message properties that are never prompt variables: the response object and Node-RED's own (the request, msg.req, is one: {{req.body.name}}). */
const NOT_VARIABLES = ['res', '_msgid', 'prompt', ...PROMPT_VARIABLES];

export function variableNamesProblem(list: string): string | undefined {
  for (const name of variableNames(list)) {
    if (!NAME.test(name)) return `names '${name.slice(0, 40)}', which is not a message property name (letters, digits, _ and $; a nested value is reached in the template, as {{user.name}})`;
    if (NOT_VARIABLES.includes(name)) return `names '${name}', which ${(PROMPT_VARIABLES as readonly string[]).includes(name) ? 'every template already has' : 'cannot be a prompt variable'}`;
  }
  return undefined;
}
