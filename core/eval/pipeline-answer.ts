/**
 * What a pipeline gave back for one evaluation question: the answer a user of the served pipeline
 * would read, and the contexts it was generated from (the documents the LLM stage was given).
 */
import { isObject } from '../clients/wire';

export interface PipelineAnswer {
  answer: string;
  contexts?: string[];
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return `an object with ${Object.keys(value).slice(0, 5).join(', ') || 'no fields'}`;
  return `a ${typeof value}`;
}

/** The answer text of a GeneratedDoc {text}, an OpenAI chat completion, a TGI answer, or a plain string. */
function answerText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  if (!isObject(payload)) return undefined;
  if (typeof payload.text === 'string') return payload.text;
  if (typeof payload.generated_text === 'string') return payload.generated_text;
  const choice = Array.isArray(payload.choices) ? payload.choices[0] : undefined;
  if (isObject(choice) && isObject(choice.message) && typeof choice.message.content === 'string') return choice.message.content;
  return undefined;
}

/**
 * Reads the message that came back from the pipeline. A message a guardrail blocked answers with the
 * guardrail's refusal ("Violated policies: ..."), as OPEA's megaservice answers its user.
 */
export function readPipelineAnswer(msg: { payload?: unknown; contexts?: unknown; guardrail?: unknown }): PipelineAnswer {
  const guardrail = isObject(msg.guardrail) ? msg.guardrail : undefined;
  const refusal = guardrail?.verdict === 'blocked' && typeof guardrail.violatedPolicies === 'string' ? guardrail.violatedPolicies : undefined;
  const answer = refusal ?? answerText(msg.payload);
  if (answer === undefined) {
    throw new Error(`the pipeline answered with ${describe(msg.payload)} on msg.payload, not an answer: wire the evaluator's input from the node that gives the answer ({text}, as opea-llm does)`);
  }
  const contexts = Array.isArray(msg.contexts) && msg.contexts.every((c) => typeof c === 'string') ? (msg.contexts as string[]) : undefined;
  return contexts && !refusal ? { answer, contexts } : { answer };
}
