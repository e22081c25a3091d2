// `opea-flow run` on a flow whose Handlebars template loops over three documents: the loopback model
// servers (test/support/llm-upstream.ts) record the very request each backend gets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlmUpstream, UpstreamKind } from '../support/llm-upstream';
import { runCli } from '../support/run-cli';

const TEMPLATE = 'Sources:\n{{#each documents}}{{@index}}. {{text}} [{{metadata.source}}, score {{score}}]\n{{/each}}Question: {{question}}\nAudience: {{default audience "anyone"}}';
const INPUT = {
  query: 'Where is the Louvre?',
  documents: [
    { text: 'The Louvre is in Paris.', metadata: { source: 'paris.md' }, score: 0.9 },
    { text: 'It opened in 1793.', metadata: { source: 'history.md' }, score: 0.7 },
    { text: 'Use {braces} & <tags> freely.', metadata: { source: 'style.md' }, score: 0.2 },
  ],
};
const EXPECTED = [
  'Sources:',
  '0. The Louvre is in Paris. [paris.md, score 0.9]',
  '1. It opened in 1793. [history.md, score 0.7]',
  '2. Use {braces} & <tags> freely. [style.md, score 0.2]',
  'Question: Where is the Louvre?',
  'Audience: anyone',
].join('\n');

function flow(backend: string, url: string) {
  return [
    { id: 't', type: 'tab', label: 'template run' },
    { id: 'srv', type: 'opea-server', name: 'model', baseUrl: url, timeout: 5, retries: 0, backoff: 10, headers: '', verifyTls: true },
    { id: 'in', type: 'http in', z: 't', url: '/ask', method: 'post', upload: false, wires: [['llm']] },
    { id: 'llm', type: 'opea-llm', z: 't', backend, model: 'org/model', server: 'srv', streaming: false, temperature: 0.5, topP: 0.9, maxTokens: 16, userTemplate: TEMPLATE, variables: 'audience', wires: [['out'], []] },
    { id: 'out', type: 'http response', z: 't', wires: [] },
  ];
}

describe('opea-flow run with a Handlebars template over three documents', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-prompt-run-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: { kind: UpstreamKind; backend: string; sent: (body: Record<string, unknown>) => unknown }[] = [
    { kind: 'tgi', backend: 'tgi', sent: (body) => body.inputs },
    { kind: 'vllm', backend: 'vllm', sent: (body) => (body.messages as { role: string; content: string }[]).map((m) => [m.role, m.content]) },
    { kind: 'opea-1.5', backend: 'opea', sent: (body) => [body.query, body.documents, body.chat_template] },
  ];
  for (const c of cases) {
    it(`${c.backend}: the model server gets exactly the rendered prompt`, async () => {
      const upstream = await LlmUpstream.start(c.kind, { modelServer: 'tgi' });
      try {
        const file = path.join(dir, `${c.backend}.json`);
        fs.writeFileSync(file, JSON.stringify(flow(c.backend, upstream.url)));
        const result = await runCli(['run', file, '--input', JSON.stringify(INPUT)]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(upstream.served.length, 1);
        const body = upstream.last.body as Record<string, unknown>;
        if (c.backend === 'tgi') assert.equal(c.sent(body), EXPECTED);
        if (c.backend === 'vllm') assert.deepEqual(c.sent(body), [['user', EXPECTED]]);
        // Sampling, so the OPEA service gets an LLMParamsDoc: it fills "{question}" with the rendered prompt, no documents of its own.
        if (c.backend === 'opea') assert.deepEqual(c.sent(body), [EXPECTED, [], '{question}']);
        assert.equal(upstream.last.model?.input.includes(EXPECTED), true, upstream.last.model?.input);
        assert.equal((JSON.parse(result.stdout) as { prompt: string }).prompt, EXPECTED);
      } finally {
        await upstream.close();
      }
    });
  }

  it('validate refuses a malformed template, naming the node, the line and the column', async () => {
    const file = path.join(dir, 'broken.json');
    const broken = flow('tgi', 'http://127.0.0.1:9').map((n) => (n.id === 'llm' ? { ...n, userTemplate: 'Sources:\n{{#each documents}}{{text}}\nQuestion: {{question}}' } : n));
    fs.writeFileSync(file, JSON.stringify(broken));
    const result = await runCli(['validate', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /node llm \(opea-llm\): userTemplate has a template error at line 3, column \d+: expected the \{\{\/…\}\} that closes a block/);
  });
});
