/**
 * A request's prompt from the node's Handlebars templates: the system template becomes the system
 * message, the user template the last user turn. A user template that only places {{question}} and
 * {{context}} goes as its {context}/{question} form, so the OPEA service fills it in itself (as a
 * deployed pipeline does); any other is rendered here and sent as the question with "{question}".
 */
import { ChatMessage, DEFAULT_CHAT_TEMPLATE, LLMParamsDoc, RetrievedDoc } from '../contract/documents';
import { handlebarsFromPlaceholders } from './placeholders';
import { CompiledPrompt } from './template';

/** The prompt of a node whose template is empty: OPEA ChatQnA's, in Handlebars. */
export const DEFAULT_USER_TEMPLATE = handlebarsFromPlaceholders(DEFAULT_CHAT_TEMPLATE);

export interface PromptTemplates {
  system?: CompiledPrompt;
  user: CompiledPrompt;
}

/** The template the service fills in when the prompt is already rendered: the question as it is. */
export const RENDERED = '{question}';

export function applyPrompts(
  input: LLMParamsDoc,
  prompts: PromptTemplates,
  documents: RetrievedDoc[],
  variables: Record<string, unknown> = {},
): { input: LLMParamsDoc; template: string } {
  const earlier = input.history ?? [];
  const data = { question: input.query, documents, history: earlier, variables };
  const printsHistory = prompts.user.usesHistory || prompts.system?.usesHistory === true;
  const system: ChatMessage[] = prompts.system ? [{ role: 'system', content: prompts.system.render(data) }] : [];
  const history = [...system, ...(printsHistory ? [] : earlier)];
  const withHistory: LLMParamsDoc = { ...input };
  if (history.length > 0) withHistory.history = history;
  else delete withHistory.history;
  if (prompts.user.placeholderForm !== undefined) return { input: withHistory, template: prompts.user.placeholderForm };
  return { input: { ...withHistory, query: prompts.user.render(data), documents: [] }, template: RENDERED };
}
