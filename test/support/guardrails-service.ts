// A loopback OPEA guardrails service (Llama Guard behind it, simulated) that takes a TextDoc or a GeneratedDoc as
// GenAIComps 1.1 and 1.5 do, and a TextDoc-only /v1/toxicity. Test-only: binds 127.0.0.1 on an ephemeral port.
import http from 'node:http';
import { closeServer, listenLoopback } from './loopback';

export type GuardrailsRelease = '1.1' | '1.5';
type Message = { role: string; content: string };

/** Llama Guard, simulated: a conversation that touches explosives is unsafe, category S8 (GenAIComps' MLCommons table). */
const llamaGuard = (messages: Message[]) => (messages.some((m) => /\bbomb\b/i.test(m.content)) ? 'unsafe\nS8' : 'safe');

/**
 * The OPEA guardrails service with Llama Guard behind it.
 * 1.1 (comps/guardrails/llama_guard/langchain/guardrails_tgi.py): the body is a GeneratedDoc when it has `text` and
 * `prompt` (input Union[GeneratedDoc, TextDoc], l.65-68; GeneratedDoc's fields, v1.1 docarray.py:165-167), checked as
 * the user turn and the assistant turn (l.71-74); a refusal names the policy (l.77-85), a pass echoes the text (l.87).
 * 1.5 (comps/guardrails/src/guardrails/opea_guardrails_microservice.py): a GeneratedDoc goes through the output
 * scanners (l.73-81), which hand back a string (utils/llm_guard_output_guardrail.py:85,88) or refuse with 466
 * (l.74-84); that string reaches the Llama Guard component (l.86), which reads its `.text` (integrations/llamaguard.py:106)
 * and fails, so FastAPI answers 500. A TextDoc is checked alone (l.82-86, llamaguard.py:105-106).
 * /v1/toxicity takes a TextDoc only (1.5 opea_toxicity_detection_microservice.py:48) and flags "stupid".
 */
export class GuardrailsService {
  readonly bodies: { path: string; body: Record<string, unknown> }[] = [];
  private server!: http.Server;
  url = '';

  /** `outputScanner`: 1.5 with BAN_SUBSTRINGS enabled for "malware" (utils/.output_env). */
  constructor(private readonly release: GuardrailsRelease, private readonly outputScanner = false) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(new URL(req.url ?? '/', this.url).pathname, JSON.parse(Buffer.concat(chunks).toString('utf8')), res));
    });
    this.url = await listenLoopback(this.server);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private answer(path: string, body: Record<string, unknown>, res: http.ServerResponse): void {
    this.bodies.push({ path, body });
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const text = String(body.text);
    if (path === '/v1/toxicity') return void json(200, /stupid/i.test(text) ? { text: 'Violated policies: toxicity, please check your input.', downstream_black_list: ['.*'] } : { text });
    const generated = typeof body.text === 'string' && typeof body.prompt === 'string';
    if (generated && this.release === '1.5') {
      if (this.outputScanner && /malware/i.test(text)) return void json(466, { detail: "I'm sorry, but the model output is not valid according to the policies." });
      return void res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error');
    }
    const messages: Message[] = generated ? [{ role: 'user', content: String(body.prompt) }, { role: 'assistant', content: text }] : [{ role: 'user', content: text }];
    if (llamaGuard(messages).startsWith('unsafe')) return void json(200, { text: 'Violated policies: Indiscriminate Weapons, please check your input.', downstream_black_list: ['.*'] });
    json(200, { text });
  }
}
