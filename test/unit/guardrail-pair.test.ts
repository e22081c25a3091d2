// An output rail with the OPEA backend sends the guardrails service the answer with its prompt, a GeneratedDoc
// {prompt, text}, which is how upstream checks an answer in its conversation; a TextDoc is still checked alone.
import assert from 'node:assert/strict';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { runRail, RailConfig } from '../../core/guardrail/rail';
import { ANSWER_ONLY_NOTE, OpeaGuardrailService, remoteCheck } from '../../core/guardrail/remote';
import { GuardrailsService } from '../support/guardrails-service';

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
