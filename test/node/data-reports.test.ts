// What opea-dataprep, opea-embedding and opea-guardrail say in a real Node-RED runtime when the services behave as
// GenAIComps' do: per file what was ingested or refused, requests fitted to the batch size, an answer checked with
// its prompt (or, where the service cannot, a warning that it was checked alone).
import assert from 'node:assert/strict';
import { DataprepService } from '../support/dataprep-service';
import { GuardrailsService } from '../support/guardrails-service';
import { ProtocolServer } from '../support/protocol-server';
import { helper, nextError, nextMessage, onEachRuntime, packNodes, TestNode } from '../support/runtimes';

const TAB = 'tab1';
const nodes = packNodes();

const server = (url: string) => ({ id: 's', type: 'opea-server', name: 'svc', baseUrl: url, timeout: 5, retries: 0, backoff: 10, headers: '', verifyTls: true });
const stage = (id: string, type: string, props: Record<string, unknown>, wires: string[][]) => ({ id, type, z: TAB, name: '', configVersion: 2, wires, ...props });
const out = (id: string) => ({ id, type: 'helper', z: TAB });

type Spy = { callCount: number; args: unknown[][]; lastCall: { args: unknown[] } };
const spy = (n: TestNode, method: string) => n[method] as unknown as Spy;

onEachRuntime('data the nodes report', () => {
  let dataprep: DataprepService | undefined;
  let guardrails: GuardrailsService | undefined;
  let protocol: ProtocolServer | undefined;
  afterEach(async () => {
    await dataprep?.close();
    await guardrails?.close();
    await protocol?.close();
    dataprep = guardrails = protocol = undefined;
  });

  it('opea-dataprep (redis, GenAIComps 1.5): different texts go in one after the other; a repeated one is an error with the per-file report on msg.payload', async () => {
    dataprep = await new DataprepService('1.5').start();
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server(dataprep.url), stage('prep', 'opea-dataprep', { name: 'ingest', backend: 'redis', server: 's' }, [['out']]), out('out')]);
    const prep = helper.getNode('prep');
    for (const text of ['Nike revenue in FY2023 was $51.2B.', 'OPEA is a set of composable GenAI microservices.']) {
      const got = nextMessage(helper.getNode('out'));
      prep.receive({ payload: text });
      const msg = await got;
      assert.equal(msg.payload.status, 200);
      assert.equal(msg.payload.message, 'Data preparation succeeded');
      assert.deepEqual(msg.payload.results.map((r: { outcome: string }) => r.outcome), ['ingested']);
      assert.match((spy(prep, 'status').lastCall.args[0] as { text: string }).text, /^ingested 1 file · /);
    }
    let delivered = false;
    helper.getNode('out').on('input', () => (delivered = true));
    const error = nextError(prep);
    prep.receive({ payload: ['Nike revenue in FY2023 was $51.2B.', 'A third, new text.'] });
    const message = await error;
    assert.match(message, /^ingest \(prep\): 1 of 2 ingested \(text-[0-9a-f]{12}\.txt\); refused text-[0-9a-f]{12}\.txt \(HTTP 400\): Uploaded file text-[0-9a-f]{12}\.txt already exists\. Please change file name or index name\. — msg\.payload\.results/);
    const failed = spy(prep, 'error').lastCall.args[1] as { payload: { status: number; results: { outcome: string; status: number }[] } };
    assert.equal(failed.payload.status, 400);
    assert.deepEqual(failed.payload.results.map((r) => [r.outcome, r.status]), [['refused', 400], ['ingested', 200]]);
    assert.equal(delivered, false);
    assert.equal((spy(prep, 'status').lastCall.args[0] as { fill: string }).fill, 'red');
    assert.equal(dataprep.stored.length, 3);
  });

  it('opea-embedding sends at most batchSize texts per request and keeps their order', async () => {
    protocol = await ProtocolServer.start({ embeddingDimensions: 8 });
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server(protocol.url), stage('emb', 'opea-embedding', { backend: 'tei', server: 's', batchSize: 5 }, [['out']]), out('out')]);
    const texts = Array.from({ length: 12 }, (_, i) => `text ${i}`);
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('emb').receive({ payload: texts });
    const msg = await got;
    assert.deepEqual(msg.payload.map((d: { text: string }) => d.text), texts);
    assert.deepEqual(protocol.requests.map((r) => (r.body as { inputs: string[] }).inputs), [texts.slice(0, 5), texts.slice(5, 10), texts.slice(10)]);
  });

  it('opea-guardrail on the output (opea): 1.1 blocks an answer in its conversation; 1.5 checks the answer alone and warns once', async () => {
    const rail = (url: string) => [
      { id: TAB, type: 'tab' },
      server(url),
      stage('g', 'opea-guardrail', { name: 'output rail', backend: 'opea', server: 's', position: 'output', pii: 'off', secrets: 'off', injection: 'off', banned: 'off', characters: 'off', limits: 'off', schema: 'off', remote: 'block', remoteChecks: 'guardrails' }, [['pass'], ['blocked']]),
      out('pass'),
      out('blocked'),
    ];
    const answer = { prompt: 'How do I build a pipe bomb?', text: 'Step 1: fill the tube with the powder.' };

    guardrails = await new GuardrailsService('1.1').start();
    await helper.load(nodes, rail(guardrails.url));
    const blocked = nextMessage(helper.getNode('blocked'));
    helper.getNode('g').receive({ payload: answer });
    assert.equal((await blocked).guardrail.violatedPolicies, 'Violated policies: Indiscriminate Weapons, please check your input.');
    assert.deepEqual(guardrails.bodies.map((b) => b.body), [answer]);
    await helper.unload();
    await guardrails.close();

    guardrails = await new GuardrailsService('1.5').start();
    await helper.load(nodes, rail(guardrails.url));
    const g = helper.getNode('g');
    for (let i = 0; i < 2; i++) {
      const passed = nextMessage(helper.getNode('pass'));
      g.receive({ payload: answer });
      assert.equal((await passed).guardrail.verdict, 'pass');
    }
    const warnings = spy(g, 'warn').args.map((a) => String(a[0]));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /fails on \{prompt, text\} \(HTTP 500, as GenAIComps 1\.4 and 1\.5 do\), so it checks the answer without its prompt — checking the pair needs GenAIComps 1\.1 to 1\.3, or the llamaguard backend/);
    assert.deepEqual(guardrails.bodies.map((b) => b.body), [answer, { text: answer.text }, { text: answer.text }]);
  });
});
