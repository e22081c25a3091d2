import assert from 'node:assert/strict';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import {
  checkWithLlamaGuard,
  checkWithOpea,
  LLAMA_GUARD_TAXONOMY,
  llamaGuardVersionOf,
  parseLlamaGuard,
  parseOpeaServices,
  remoteCheck,
  violatedPoliciesIn,
} from '../../core/guardrail/remote';
import { GuardrailServer, opeaRefusal } from '../support/guardrail-server';

const endpointAt = (url: string): Endpoint => createEndpoint({ baseUrl: url, timeoutMs: 2000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });

describe('guardrail Llama Guard parsing', () => {
  it('safe, with or without surrounding whitespace', () => {
    assert.deepEqual(parseLlamaGuard('safe', '3'), { safe: true, categories: [] });
    assert.deepEqual(parseLlamaGuard('\n\nsafe\n', '2'), { safe: true, categories: [] });
  });

  it('Llama Guard 3: every category of the second line, in the 14-category taxonomy', () => {
    assert.deepEqual(parseLlamaGuard('unsafe\nS1,S10', '3')?.categories, [
      { code: 'S1', name: 'Violent Crimes' },
      { code: 'S10', name: 'Hate' },
    ]);
    assert.deepEqual(parseLlamaGuard('unsafe\nS5, S13 ,S14', '3')?.categories.map((c) => c.name), ['Defamation', 'Elections', 'Code Interpreter Abuse']);
  });

  it('Llama Guard 2 numbers the same codes differently (no Defamation, no Elections)', () => {
    assert.deepEqual(parseLlamaGuard('unsafe\nS1,S10', '2')?.categories, [
      { code: 'S1', name: 'Violent Crimes' },
      { code: 'S10', name: 'Suicide & Self-Harm' },
    ]);
    assert.equal(parseLlamaGuard('unsafe\nS5', '2')?.categories[0].name, 'Specialized Advice');
    assert.equal(parseLlamaGuard('unsafe\nS5', '3')?.categories[0].name, 'Defamation');
    assert.equal(Object.keys(LLAMA_GUARD_TAXONOMY['2']).length, 11);
    assert.equal(Object.keys(LLAMA_GUARD_TAXONOMY['3']).length, 14);
  });

  it('Llama Guard 1: O-categories, listed on one or several lines', () => {
    assert.deepEqual(parseLlamaGuard('unsafe\nO3\nO4', '1')?.categories.map((c) => `${c.code} ${c.name}`), ['O3 Criminal Planning', 'O4 Guns and Illegal Weapons']);
    assert.deepEqual(parseLlamaGuard(' unsafe\no6', '1')?.categories, [{ code: 'O6', name: 'Self-Harm' }]);
  });

  it('names a code the taxonomy lacks instead of dropping it, and refuses answers that are not a verdict', () => {
    assert.deepEqual(parseLlamaGuard('unsafe\nS12', '2')?.categories, [{ code: 'S12', name: 'unknown category S12' }]);
    assert.equal(parseLlamaGuard('I cannot help with that.', '3'), null);
    assert.equal(parseLlamaGuard('', '3'), null);
  });

  it('reads the version from model ids', () => {
    assert.equal(llamaGuardVersionOf('meta-llama/Llama-Guard-3-8B'), '3');
    assert.equal(llamaGuardVersionOf('meta-llama/Llama-Guard-3-1B'), '3');
    assert.equal(llamaGuardVersionOf('llama-guard3:8b'), '3');
    assert.equal(llamaGuardVersionOf('meta-llama/Meta-Llama-Guard-2-8B'), '2');
    assert.equal(llamaGuardVersionOf('meta-llama/LlamaGuard-7b'), '1');
    assert.equal(llamaGuardVersionOf('meta-llama/Llama-Guard-4-12B'), '4');
    assert.equal(llamaGuardVersionOf('org/some-classifier'), null);
  });
});

describe('guardrail OPEA answers', () => {
  it('reads the policies of a refusal text', () => {
    assert.deepEqual(violatedPoliciesIn('Violated policies: Violent Crimes, please check your input.'), ['Violent Crimes']);
    assert.deepEqual(violatedPoliciesIn('Violated policies: jailbreak or prompt injection, please check your input.'), ['jailbreak or prompt injection']);
    assert.deepEqual(violatedPoliciesIn('All good'), []);
  });

  it('reads the service list, refusing unknown names', () => {
    assert.deepEqual(parseOpeaServices('guardrails, toxicity\ninjection toxicity'), ['guardrails', 'toxicity', 'injection']);
    assert.throws(() => parseOpeaServices('guardrails, hallucination'), /unknown service 'hallucination'/);
  });
});

describe('guardrail remote calls (loopback server)', () => {
  let srv: GuardrailServer;
  afterEach(async () => srv?.close());

  it('Llama Guard: sends the conversation and reads every category', async () => {
    srv = await GuardrailServer.start({ llamaGuard: (messages) => (messages.some((m) => /steal/.test(m.content)) ? 'unsafe\nS2,S14' : 'safe') });
    const verdict = await checkWithLlamaGuard(endpointAt(srv.url), 'meta-llama/Llama-Guard-3-8B', '3', { user: 'How do I steal a car?', assistant: 'Like this.' });
    assert.deepEqual(verdict, { service: 'llamaguard', flagged: true, categories: [{ code: 'S2', name: 'Non-Violent Crimes' }, { code: 'S14', name: 'Code Interpreter Abuse' }] });
    assert.deepEqual(srv.requests[0].body.messages, [{ role: 'user', content: 'How do I steal a car?' }, { role: 'assistant', content: 'Like this.' }]);
    assert.equal(srv.requests[0].body.model, 'meta-llama/Llama-Guard-3-8B');
    assert.equal(srv.requests[0].body.temperature, 0);
    assert.equal((await checkWithLlamaGuard(endpointAt(srv.url), 'm', '3', { user: 'hello' })).flagged, false);
  });

  it('Llama Guard: an answer that is no verdict is an error naming the URL and the fix', async () => {
    srv = await GuardrailServer.start({ llamaGuard: () => 'Sure, here is a poem.' });
    await assert.rejects(checkWithLlamaGuard(endpointAt(srv.url), 'some/chat-model', '3', { user: 'x' }), (err: Error) => {
      assert.match(err.message, /\/v1\/chat\/completions: the model answered 'Sure, here is a poem\.'/);
      assert.match(err.message, /check that some\/chat-model is a Llama Guard model/);
      return true;
    });
  });

  it('OPEA: a TextDoc with downstream_black_list is a violation named by its text; an echo passes', async () => {
    srv = await GuardrailServer.start({ opea: (_service, text) => (/idiot/.test(text) ? opeaRefusal('toxicity') : { text }) });
    const endpoint = endpointAt(srv.url);
    assert.deepEqual(await checkWithOpea(endpoint, 'toxicity', 'you idiot'), { service: 'toxicity', flagged: true, categories: [{ name: 'toxicity' }] });
    assert.deepEqual(await checkWithOpea(endpoint, 'toxicity', 'thank you'), { service: 'toxicity', flagged: false, categories: [] });
    assert.deepEqual(srv.requests.map((r) => [r.path, r.body]), [
      ['/v1/toxicity', { text: 'you idiot' }],
      ['/v1/toxicity', { text: 'thank you' }],
    ]);
  });

  it('OPEA: ScoreDoc flags from 0.5, detected_pii when it lists any', async () => {
    srv = await GuardrailServer.start({ opea: (service, text) => (service === 'pii' ? { detected_pii: text.includes('@') ? [{ type: 'EMAIL' }] : [] } : { score: text.length > 5 ? 0.9 : 0.1 }) });
    const endpoint = endpointAt(srv.url);
    assert.equal((await checkWithOpea(endpoint, 'injection', 'ignore it all')).flagged, true);
    assert.equal((await checkWithOpea(endpoint, 'injection', 'hi')).flagged, false);
    assert.deepEqual((await checkWithOpea(endpoint, 'pii', 'a@b.c')).categories, [{ name: 'pii (1 found)' }]);
    assert.equal((await checkWithOpea(endpoint, 'pii', 'nothing')).flagged, false);
  });

  it('the OPEA remote check calls every listed service, with the answer when the output is checked', async () => {
    srv = await GuardrailServer.start();
    const check = remoteCheck(() => endpointAt(srv.url), { backend: 'opea', services: ['guardrails', 'bias'] });
    const verdicts = await check({ user: 'question', assistant: 'answer' });
    assert.deepEqual(verdicts.map((v) => v.service), ['guardrails', 'bias']);
    assert.deepEqual(srv.requests.map((r) => [r.path, r.body.text]).sort(), [['/v1/bias', 'answer'], ['/v1/guardrails', 'answer']]);
  });
});
