/** What an exported pipeline can carry of an opea-llm node's prompt and memory. */
import { serviceTemplate } from '../contract/documents';
import { ParamValue } from '../model';
import { DEFAULT_USER_TEMPLATE } from './apply';
import { PROMPTS } from './settings';

const text = (v: ParamValue | undefined): string => (typeof v === 'string' ? v : '');

/**
 * The node's prompt as the OPEA LLM service's chat_template ({context}/{question}, f-string syntax),
 * or why the service cannot build that prompt.
 */
export function servicePrompt(params: Record<string, ParamValue>): { chatTemplate: string } | { why: string } {
  if (text(params.systemTemplate).trim() !== '') {
    return { why: 'its system prompt has no place in the LLMParamsDoc the router sends, whose chat_template is the one user turn' };
  }
  const user = text(params.userTemplate).trim() === '' ? DEFAULT_USER_TEMPLATE : text(params.userTemplate);
  let compiled;
  try {
    compiled = PROMPTS.get(user);
  } catch (err) {
    return { why: `its template does not compile (${(err as Error).message})` };
  }
  if (compiled.placeholderForm === undefined) return { why: `its template cannot be the service's chat_template: ${compiled.whyNoPlaceholderForm}` };
  if (compiled.usesHistory) return { why: 'its template prints the history, which the service does not have' };
  return { chatTemplate: serviceTemplate(compiled.placeholderForm) };
}

/** Why an exported pipeline cannot keep the conversation a memory keeps in Node-RED. */
export const MEMORY_NOT_EXPORTED =
  "its conversation memory (opea-memory) stays in Node-RED: the deployed LLM service keeps no conversation, and OPEA's chat history service " +
  '(comps/chathistory, /v1/chathistory/create|get|delete on MongoDB) is a store an application calls, not a step the router can put before the LLM';
