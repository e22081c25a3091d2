// A conversation through a real Node-RED's http in: opea-memory keys it by a request header, and the
// loopback model server (test/support/llm-upstream.ts, vLLM's OpenAI chat API) sees what reached the model.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAdminRuntime } from '../support/admin-runtime-process';
import { LlmUpstream } from '../support/llm-upstream';
import { RUNTIMES } from '../support/runtimes';

const TAB = 'memtab';

function chatFlow(upstream: string) {
  return [
    { id: TAB, type: 'tab', label: 'chat with memory' },
    { id: 'srv', type: 'opea-server', name: 'model', baseUrl: upstream, timeout: 5, retries: 0, backoff: 10, headers: '', verifyTls: true },
    { id: 'mem', type: 'opea-memory', name: 'by header', sessionFrom: 'header', sessionKey: 'X-Session-Id', maxTurns: 1, maxTokens: 2000, store: '' },
    { id: 'in', type: 'http in', z: TAB, url: '/chat', method: 'post', upload: false, wires: [['llm']] },
    {
      id: 'llm',
      type: 'opea-llm',
      z: TAB,
      name: 'chat',
      backend: 'vllm',
      model: 'org/model',
      server: 'srv',
      memory: 'mem',
      streaming: false,
      temperature: 0,
      systemTemplate: 'Be brief.',
      userTemplate: 'Q: {{question}}',
      configVersion: 2,
      wires: [['out'], []],
    },
    { id: 'out', type: 'http response', z: TAB, wires: [] },
  ];
}

for (const runtime of RUNTIMES) {
  describe(`opea-memory through http in (Node-RED ${runtime.version})`, function () {
    this.timeout(180_000);
    let userDir: string;
    let child: ChildProcess | undefined;
    let upstream: LlmUpstream;
    let port: number;

    before(async () => {
      upstream = await LlmUpstream.start('vllm', { tokens: ['Hello', ' Ann', '.'] });
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-memory-'));
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(chatFlow(upstream.url)));
      ({ child, port } = await startAdminRuntime(runtime.path, userDir, 'metrics', 60_000));
      // Node-RED 5 may start the flows after it listens: its http in routes answer 404 until then.
      for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 200))) {
        const res = await fetch(`http://127.0.0.1:${port}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Session-Id': 'warm-up' }, body: '{"query": "ready?"}' });
        await res.arrayBuffer();
        if (res.status !== 404) break;
        // A busy machine starts the flows late: a wide bound, and a clear failure past it.
        if (Date.now() - started > 80_000) assert.fail('the flow\'s POST /chat entry was not served within 80 s of start-up');
      }
    });
    after(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await upstream.close();
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    async function ask(session: string, question: string): Promise<{ role: string; content: string }[]> {
      const before = upstream.served.length;
      const res = await fetch(`http://127.0.0.1:${port}/api/chat`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Session-Id': session },
        body: JSON.stringify({ query: question }),
        signal: AbortSignal.timeout(20_000),
      });
      const answer = (await res.json()) as { text?: string };
      assert.equal(res.status, 200, JSON.stringify(answer));
      assert.equal(answer.text, 'Hello Ann.');
      assert.equal(upstream.served.length, before + 1, 'one request reached the model server');
      return (upstream.last.body as { messages: { role: string; content: string }[] }).messages;
    }

    it('the second request of a session reaches the model with the first turn; another session does not see it; the oldest turn goes first', async () => {
      assert.deepEqual(await ask('A', 'My name is Ann.'), [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Q: My name is Ann.' },
      ]);
      assert.deepEqual(await ask('A', 'What is my name?'), [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'My name is Ann.' },
        { role: 'assistant', content: 'Hello Ann.' },
        { role: 'user', content: 'Q: What is my name?' },
      ]);
      assert.deepEqual(await ask('B', 'Who am I?'), [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Q: Who am I?' },
      ]);
      // The memory keeps one turn: the first goes, the second stays.
      assert.deepEqual(await ask('A', 'And now?'), [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is my name?' },
        { role: 'assistant', content: 'Hello Ann.' },
        { role: 'user', content: 'Q: And now?' },
      ]);
    });
  });
}
