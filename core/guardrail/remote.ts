/**
 * Remote checks through an opea-server: the OPEA guardrail microservices (GenAIComps
 * comps/guardrails) and Llama Guard served behind an OpenAI-compatible chat endpoint.
 */
import { Endpoint, ServiceError } from '../clients/endpoint';

/** A category a remote check reported; `code` is the model's own label (S10, O3) where it has one. */
export interface RemoteVerdict {
  service: string;
  flagged: boolean;
  categories: { code?: string; name: string }[];
  /** How the verdict was reached, when it is less than asked for (ANSWER_ONLY_NOTE). */
  note?: string;
}

// Llama Guard 1 (LlamaGuard-7b) uses its own six O-categories.
const LLAMA_GUARD_1: Record<string, string> = {
  O1: 'Violence and Hate',
  O2: 'Sexual Content',
  O3: 'Criminal Planning',
  O4: 'Guns and Illegal Weapons',
  O5: 'Regulated or Controlled Substances',
  O6: 'Self-Harm',
};

// Llama Guard 2: 11 of the MLCommons v0.5 hazards (no Defamation, no Elections).
const LLAMA_GUARD_2: Record<string, string> = {
  S1: 'Violent Crimes',
  S2: 'Non-Violent Crimes',
  S3: 'Sex-Related Crimes',
  S4: 'Child Sexual Exploitation',
  S5: 'Specialized Advice',
  S6: 'Privacy',
  S7: 'Intellectual Property',
  S8: 'Indiscriminate Weapons',
  S9: 'Hate',
  S10: 'Suicide & Self-Harm',
  S11: 'Sexual Content',
};

// Llama Guard 3 (and 4): all 13 MLCommons hazards plus Code Interpreter Abuse, so codes from S5 on differ from version 2.
const LLAMA_GUARD_3: Record<string, string> = {
  S1: 'Violent Crimes',
  S2: 'Non-Violent Crimes',
  S3: 'Sex-Related Crimes',
  S4: 'Child Sexual Exploitation',
  S5: 'Defamation',
  S6: 'Specialized Advice',
  S7: 'Privacy',
  S8: 'Intellectual Property',
  S9: 'Indiscriminate Weapons',
  S10: 'Hate',
  S11: 'Suicide & Self-Harm',
  S12: 'Sexual Content',
  S13: 'Elections',
  S14: 'Code Interpreter Abuse',
};

export type LlamaGuardVersion = '1' | '2' | '3' | '4';

export const LLAMA_GUARD_TAXONOMY: Record<LlamaGuardVersion, Readonly<Record<string, string>>> = {
  '1': LLAMA_GUARD_1,
  '2': LLAMA_GUARD_2,
  '3': LLAMA_GUARD_3,
  '4': LLAMA_GUARD_3,
};

/** The version a model id names (meta-llama/Llama-Guard-3-8B, llama-guard3:1b, meta-llama/LlamaGuard-7b), or null. */
export function llamaGuardVersionOf(model: string): LlamaGuardVersion | null {
  const numbered = /llama[-_ ]?guard[-_ ]?([234])(?!\d)/i.exec(model);
  if (numbered) return numbered[1] as LlamaGuardVersion;
  return /llama[-_ ]?guard[-_ ]?7b/i.test(model) ? '1' : null;
}

/**
 * Reads a Llama Guard answer: first line `safe` or `unsafe`, then the violated categories,
 * comma-separated (on one or more lines). Every listed category is returned, not only the first.
 */
export function parseLlamaGuard(answer: string, version: LlamaGuardVersion): { safe: boolean; categories: { code: string; name: string }[] } | null {
  const lines = answer.trim().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const verdict = lines[0]?.toLowerCase();
  if (verdict === 'safe') return { safe: true, categories: [] };
  if (verdict !== 'unsafe') return null;
  const taxonomy = LLAMA_GUARD_TAXONOMY[version];
  const codes = [...new Set(lines.slice(1).join(',').split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()))];
  return { safe: false, categories: codes.map((code) => ({ code, name: taxonomy[code] ?? `unknown category ${code}` })) };
}

export interface GuardedTurn {
  /** The user's text, or the prompt of a generated answer. */
  user: string;
  /** The generated answer, when the output is checked. */
  assistant?: string;
}

/** One Llama Guard classification through POST /v1/chat/completions (vLLM, TGI, Ollama and others apply the model's chat template). */
export async function checkWithLlamaGuard(endpoint: Endpoint, model: string, version: LlamaGuardVersion, turn: GuardedTurn, signal?: AbortSignal): Promise<RemoteVerdict> {
  const messages = [{ role: 'user', content: turn.user }, ...(turn.assistant === undefined ? [] : [{ role: 'assistant', content: turn.assistant }])];
  const body = await endpoint.postJson('/v1/chat/completions', { model, messages, temperature: 0, max_tokens: 64, stream: false }, signal);
  const content = (body as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
  const url = `${endpoint.config.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`;
  if (typeof content !== 'string') throw new ServiceError(url, 'the answer has no choices[0].message.content', 'check that the server is OpenAI-compatible');
  const parsed = parseLlamaGuard(content, version);
  if (!parsed) {
    throw new ServiceError(url, `the model answered '${content.trim().slice(0, 60)}', not safe or unsafe`, `check that ${model} is a Llama Guard model and the server applies its chat template`);
  }
  return { service: 'llamaguard', flagged: !parsed.safe, categories: parsed.categories };
}

/** The OPEA guardrail microservices this node can call: each takes a TextDoc {text} at /v1/<name>, guardrails also a GeneratedDoc. */
export const OPEA_GUARDRAIL_SERVICES = ['guardrails', 'pii', 'injection', 'toxicity', 'bias'] as const;
export type OpeaGuardrailService = (typeof OPEA_GUARDRAIL_SERVICES)[number];

/** Reads the list setting (names separated by commas, spaces or lines); throws naming an unknown one. */
export function parseOpeaServices(text: string): OpeaGuardrailService[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  for (const n of names) {
    if (!(OPEA_GUARDRAIL_SERVICES as readonly string[]).includes(n)) throw new Error(`remoteChecks has unknown service '${n}': use ${OPEA_GUARDRAIL_SERVICES.join(', ')}`);
  }
  return [...new Set(names)] as OpeaGuardrailService[];
}

const VIOLATED = /Violated policies:\s*([\s\S]*?)(?:,\s*please check your \w+\.?)?\s*$/i;

/** The policies named in an OPEA refusal text ("Violated policies: toxicity, please check your input."). */
export function violatedPoliciesIn(text: string): string[] {
  const m = VIOLATED.exec(text);
  return m && m[1].trim() ? [m[1].trim()] : [];
}

/**
 * The document an OPEA service checks. A TextDoc {text} is checked as the user's words; a generated
 * answer is checked with its prompt only by the guardrails service, which takes a GeneratedDoc
 * {prompt, text} and hands Llama Guard the user turn and the assistant turn (GenAIComps v1.1
 * comps/guardrails/llama_guard/langchain/guardrails_tgi.py:65-74, v1.5
 * comps/guardrails/src/guardrails/integrations/llamaguard.py:103-106). The other services take only a
 * TextDoc (v1.5 opea_toxicity_detection_microservice.py:48, opea_prompt_injection_microservice.py:47,
 * opea_bias_detection_microservice.py:38, opea_pii_detection_microservice.py:50), so they get the answer.
 */
function opeaDocument(service: OpeaGuardrailService, input: string | GuardedTurn): { text: string; prompt?: string } {
  if (typeof input === 'string') return { text: input };
  if (input.assistant === undefined) return { text: input.user };
  return service === 'guardrails' ? { prompt: input.user, text: input.assistant } : { text: input.assistant };
}

/**
 * Guardrails services that fail on a GeneratedDoc: GenAIComps 1.4 and 1.5 pass the Llama Guard component
 * the answer as a bare string (v1.5 opea_guardrails_microservice.py:73-86, llm_guard_output_guardrail.py:88),
 * which reads its `.text` (llamaguard.py:106) and fails with HTTP 500. Such a service checks the answer
 * alone; remembered per server once a TextDoc got through where the pair did not.
 */
const pairFails = new WeakSet<Endpoint>();

/** What a remote verdict says about how it was reached, for the node to pass on once. */
export const ANSWER_ONLY_NOTE =
  'the OPEA guardrails service fails on {prompt, text} (HTTP 500, as GenAIComps 1.4 and 1.5 do), so it checks the answer without its prompt';

function readOpeaAnswer(service: OpeaGuardrailService, body: unknown): RemoteVerdict {
  const answer = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (Array.isArray(answer.downstream_black_list) && answer.downstream_black_list.length > 0) {
    const names = typeof answer.text === 'string' ? violatedPoliciesIn(answer.text) : [];
    return { service, flagged: true, categories: (names.length ? names : [service]).map((name) => ({ name })) };
  }
  if (typeof answer.score === 'number') return { service, flagged: answer.score >= 0.5, categories: answer.score >= 0.5 ? [{ name: `${service} (score ${answer.score})` }] : [] };
  if (Array.isArray(answer.detected_pii) && answer.detected_pii.length > 0) return { service, flagged: true, categories: [{ name: `pii (${answer.detected_pii.length} found)` }] };
  return { service, flagged: false, categories: [] };
}

/**
 * One OPEA guardrail call with a text, or a turn (an answer with its prompt). A refusal is a TextDoc
 * whose downstream_black_list is set (the megaservice then skips every later stage) with
 * "Violated policies: …" as its text; the PredictionGuard variants answer a ScoreDoc {score} (flagged
 * from 0.5) or, for PII, {detected_pii: [...]}. 1.4 and later refuse an answer their output scanners
 * find invalid with HTTP 466 (llm_guard_output_guardrail.py:74-84).
 */
export async function checkWithOpea(endpoint: Endpoint, service: OpeaGuardrailService, input: string | GuardedTurn, signal?: AbortSignal): Promise<RemoteVerdict> {
  const doc = opeaDocument(service, input);
  const pair = doc.prompt !== undefined;
  if (pair && pairFails.has(endpoint)) return { ...(await checkWithOpea(endpoint, service, doc.text, signal)), note: ANSWER_ONLY_NOTE };
  try {
    return readOpeaAnswer(service, await endpoint.postJson(`/v1/${service}`, doc, signal));
  } catch (err) {
    if (!pair || !(err instanceof ServiceError)) throw err;
    if (err.status === 466) return { service, flagged: true, categories: [{ name: `${service} (output policy)` }] };
    if (err.status !== 500) throw err;
    const alone = await checkWithOpea(endpoint, service, doc.text, signal);
    pairFails.add(endpoint);
    return { ...alone, note: ANSWER_ONLY_NOTE };
  }
}

export type RemoteSetup = { backend: 'opea'; services: OpeaGuardrailService[] } | { backend: 'llamaguard'; model: string; version: LlamaGuardVersion };

/** The remote check a rail runs per text: every listed OPEA service, or one Llama Guard call. */
export function remoteCheck(endpoint: () => Endpoint, setup: RemoteSetup): (turn: GuardedTurn, signal?: AbortSignal) => Promise<RemoteVerdict[]> {
  if (setup.backend === 'llamaguard') return async (turn, signal) => [await checkWithLlamaGuard(endpoint(), setup.model, setup.version, turn, signal)];
  return (turn, signal) => Promise.all(setup.services.map((s) => checkWithOpea(endpoint(), s, turn, signal)));
}
