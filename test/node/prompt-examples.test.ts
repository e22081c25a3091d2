// The prompt examples (flows/prompt-templates-offline, prompt-library-offline, chat-memory-offline) run
// offline: the extractive answerer quotes sentences, and msg.payload.prompt is the prompt a model would get.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAdminRuntime } from '../support/admin-runtime-process';
import { REPO_ROOT } from '../support/reference';
import { runCli } from '../support/run-cli';
import { RUNTIMES } from '../support/runtimes';

const flowFile = (name: string) => path.join(REPO_ROOT, 'flows', name);

describe('prompt example flows', function () {
  this.timeout(120_000);

  it('prompt-templates-offline: the template loops over the retrieved documents with their source and score', async () => {
    const result = await runCli(['run', flowFile('prompt-templates-offline.json'), '--input', JSON.stringify({ text: 'What is GMC?', audience: 'an engineer' })]);
    assert.equal(result.code, 0, result.stderr);
    const { prompt } = JSON.parse(result.stdout) as { prompt: string };
    assert.match(prompt, /^Sources:\n\[0\] (opea|node-red|rag)\.md \(score 0\.\d+\): /);
    assert.equal(prompt.match(/^\[\d\] \S+\.md \(score /gm)?.length, 3);
    assert.match(prompt, /\nQuestion: What is GMC\?$/);
  });

  it('prompt-library-offline: the highest version of the library prompt "answer" numbers the sources', async () => {
    const result = await runCli(['run', flowFile('prompt-library-offline.json'), '--entry', '/v1/prompt-library', '--input', '{"text": "What is GMC?"}']);
    assert.equal(result.code, 0, result.stderr);
    const { prompt } = JSON.parse(result.stdout) as { prompt: string };
    assert.match(prompt, /^\[0\] # /);
    assert.match(prompt, /\n\[2\] # [^]*\nQuestion: What is GMC\?$/);
  });

  describe(`chat-memory-offline through a real Node-RED ${RUNTIMES[0].version}`, () => {
    let userDir: string;
    let child: ChildProcess | undefined;
    let port: number;
    before(async () => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-memory-example-'));
      fs.copyFileSync(flowFile('chat-memory-offline.json'), path.join(userDir, 'flows.json'));
      ({ child, port } = await startAdminRuntime(RUNTIMES[0].path, userDir, 'metrics', 60_000));
    });
    after(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    async function ask(session: string, text: string): Promise<{ status: number; prompt: string }> {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/chat-memory`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Session-Id': session }, body: JSON.stringify({ text }), signal: AbortSignal.timeout(20_000) });
      const body = (await res.json().catch(() => ({}))) as { prompt?: string };
      return { status: res.status, prompt: body.prompt ?? '' };
    }

    before(async () => {
      // The flows start after the runtime listens, and the start-up ingest half a second later: a session of its own waits for the sources.
      for (const started = Date.now(); !(await ask('warm-up', 'Ready?')).prompt.includes('# '); await new Promise((r) => setTimeout(r, 250))) {
        if (Date.now() - started > 30_000) assert.fail('the example answered with no sources within 30 s');
      }
    });

    it('the second question of a session shows the first turn; another session starts afresh', async () => {
      const first = await ask('example-a', 'What is GMC?');
      assert.equal(first.status, 200);
      assert.doesNotMatch(first.prompt, /Earlier in this conversation/);
      const { prompt: second } = await ask('example-a', 'Who developed Node-RED?');
      assert.match(second, /^Earlier in this conversation:\nuser: What is GMC\?\nassistant: .*GMC/);
      assert.match(second, /\nQuestion: Who developed Node-RED\?$/);
      assert.doesNotMatch((await ask('example-b', 'What is RAG?')).prompt, /Earlier in this conversation/);
    });
  });
});
