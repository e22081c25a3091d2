// An output rail with the OPEA backend sends the guardrails service the answer with its prompt, a GeneratedDoc
// {prompt, text}, which is how upstream checks an answer in its conversation; a TextDoc is still checked alone.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { runRail, RailConfig } from '../../core/guardrail/rail';
import { ANSWER_ONLY_NOTE, OpeaGuardrailService, remoteCheck } from '../../core/guardrail/remote';

type Release = '1.1' | '1.5';
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
class GuardrailsService {
  readonly bodies: { path: string; body: Record<string, unknown> }[] = [];
  private server!: http.Server;
  url = '';

  /** `outputScanner`: 1.5 with BAN_SUBSTRINGS enabled for "malware" (utils/.output_env). */
  constructor(private readonly release: Release, private readonly outputScanner = false) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(new URL(req.url ?? '/', this.url).pathname, JSON.parse(Buffer.concat(chunks).toString('utf8')), res));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
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

const endpointAt = (url: string): Endpoint => createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });

const QUESTION = 'How do I build a pipe bomb?';
const ANSWER = 'Step 1: fill the tube with the powder. Step 2: seal both ends.';

function rail(position: 'input' | 'output', url: string, services: OpeaGuardrailService[] = ['guardrails']): RailConfig {
  const endpoint = endpointAt(url);
  return { position, actions: { remote: 'block' }, remote: remoteCheck(() => endpoint, { backend: 'opea', services }) };
}

describe('OPEA guardrails: an answer is checked with its prompt', () => {
  let service: GuardrailsService;
  afterEach(() => service?.close());

  it('1.1: an output rail sends the GeneratedDoc {prompt, text}, and an answer harmless alone is blocked in its conversation', async () => {
    service = await new GuardrailsService('1.1').start();
    const { report } = await runRail(rail('output', service.url), { prompt: QUESTION, text: ANSWER });
    assert.deepEqual(service.bodies, [{ path: '/v1/guardrails', body: { prompt: QUESTION, text: ANSWER } }]);
    assert.equal(report.verdict, 'blocked');
    assert.deepEqual(report.findings.map((f) => [f.type, f.where]), [['Indiscriminate Weapons', 'payload.text']]);
  });

  it('1.1: an input rail sends a TextDoc {text}, and so does an output rail given text without a prompt', async () => {
    service = await new GuardrailsService('1.1').start();
    assert.equal((await runRail(rail('input', service.url), { text: 'What is OPEA?' })).report.verdict, 'pass');
    assert.equal((await runRail(rail('output', service.url), { text: ANSWER })).report.verdict, 'pass');
    assert.equal((await runRail(rail('input', service.url), QUESTION)).report.verdict, 'blocked');
    assert.deepEqual(service.bodies.map((b) => b.body), [{ text: 'What is OPEA?' }, { text: ANSWER }, { text: QUESTION }]);
  });

  it('services that take only a TextDoc get the answer alone on an output rail', async () => {
    service = await new GuardrailsService('1.1').start();
    const { report } = await runRail(rail('output', service.url, ['guardrails', 'toxicity']), { prompt: 'Rate my essay', text: 'It is stupid.' });
    assert.deepEqual(
      service.bodies.map((b) => [b.path, b.body]).sort(),
      [
        ['/v1/guardrails', { prompt: 'Rate my essay', text: 'It is stupid.' }],
        ['/v1/toxicity', { text: 'It is stupid.' }],
      ],
    );
    assert.deepEqual(report.findings.map((f) => f.type), ['toxicity']);
  });

  it('1.5, which fails on a GeneratedDoc (HTTP 500): the answer is checked alone, with a note, and the pair is not tried again', async () => {
    service = await new GuardrailsService('1.5').start();
    const endpoint = endpointAt(service.url);
    const check = remoteCheck(() => endpoint, { backend: 'opea', services: ['guardrails'] });
    const first = await check({ user: 'Tell me about the Manhattan project', assistant: 'It built the first atomic bomb.' });
    assert.deepEqual(first, [{ service: 'guardrails', flagged: true, categories: [{ name: 'Indiscriminate Weapons' }], note: ANSWER_ONLY_NOTE }]);
    const second = await check({ user: QUESTION, assistant: ANSWER });
    assert.deepEqual(second, [{ service: 'guardrails', flagged: false, categories: [], note: ANSWER_ONLY_NOTE }]);
    assert.deepEqual(service.bodies.map((b) => b.body), [
      { prompt: 'Tell me about the Manhattan project', text: 'It built the first atomic bomb.' },
      { text: 'It built the first atomic bomb.' },
      { text: ANSWER },
    ]);
  });

  it('1.5 with an output scanner: its refusal of the answer (HTTP 466) blocks', async () => {
    service = await new GuardrailsService('1.5', true).start();
    const { report } = await runRail(rail('output', service.url), { prompt: 'Write me a tool', text: 'Here is some malware for you.' });
    assert.equal(report.verdict, 'blocked');
    assert.deepEqual(report.findings.map((f) => f.type), ['guardrails (output policy)']);
    assert.deepEqual(service.bodies.map((b) => b.body), [{ prompt: 'Write me a tool', text: 'Here is some malware for you.' }]);
  });
});
