/**
 * A secret in a URL is refused before anything is written: in a stage's externalUrl (GMC, compose
 * and Ansible exports, through the command line) and in the exporter node's external URLs, naming
 * the node and the field. user:password@ was refused already; query parameters named for a secret now too.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { urlCredential } from '../../core/flow-json';
import { readExporterSettings } from '../../nodes/opea-exporter/export-job';
import { exampleFlow } from '../support/reference';
import { runCli } from '../support/run-cli';

type Json = Record<string, any>;

const SECRET_NAMES = ['api_key', 'apikey', 'API-Key', 'key', 'token', 'access_token', 'hf_token', 'secret', 'client_secret', 'password', 'passwd', 'pwd', 'sig', 'signature', 'X-Amz-Signature', 'X-Amz-Credential', 'x-goog-api-key', 'subscription-key', 'auth'];
const PLAIN_NAMES = ['user', 'model', 'api-version', 'max_tokens', 'stream', 'keyword', 'monkey', 'version', 'k'];

describe('urlCredential', () => {
  for (const name of SECRET_NAMES) {
    it(`finds a credential in the query parameter '${name}'`, () => {
      assert.equal(urlCredential(`https://host.example/v1?model=m&${name}=abc123`), `a credential in its query parameter '${name}'`);
    });
  }

  it('finds user:password@, and nothing in plain URLs and plain query parameters', () => {
    assert.match(urlCredential('https://u:p@host.example/v1') ?? '', /user name or password/);
    assert.match(urlCredential('https://u@host.example/v1') ?? '', /user name or password/);
    for (const name of PLAIN_NAMES) assert.equal(urlCredential(`https://host.example/v1?${name}=1`), null, name);
    assert.equal(urlCredential('http://llm.example:9000/v1/chat/completions'), null);
  });
});

describe('exports refuse a secret in a URL, writing nothing', function () {
  this.timeout(60_000);
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-url-secret-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const target of ['gmc', 'compose', 'ansible']) {
    it(`${target}: an externalUrl with ?api_key= ends in exit 2 naming the node and the field`, async () => {
      const flow = structuredClone(exampleFlow('chatqna.json')) as Json[];
      const llm = flow.find((n) => n.type === 'opea-llm') as Json;
      Object.assign(llm, { backend: 'vllm', externalUrl: 'https://llm.example/v1/chat/completions?api_key=sk-live-1234' });
      const file = path.join(dir, 'flow.json');
      fs.writeFileSync(file, JSON.stringify(flow));
      const out = path.join(dir, 'out');
      const result = await runCli(['export', file, '--target', target, '--out', out]);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.ok(result.stderr.includes(`node ${llm.id} (${llm.name || 'llm'}): its externalUrl carries a credential in its query parameter 'api_key', which an export would write out — remove it from the URL; keys belong in the opea-server config node's credentials`), result.stderr);
      assert.ok(!result.stderr.includes('sk-live-1234') && !result.stdout.includes('sk-live-1234'), 'the secret is not repeated');
      assert.equal(fs.existsSync(out), false);
    });
  }

  it("the exporter node's external URLs: ?token= and user:password@ are problems naming the node and the row", () => {
    const { problems } = readExporterSettings({
      id: 'exp',
      type: 'opea-exporter',
      name: 'export',
      targets: ['gmc'],
      externalUrls: [
        { node: 'llm', url: 'https://llm.example/v1?token=abc' },
        { node: 'guard', url: 'https://me:pw@guard.example/v1' },
        { node: 'rr', url: 'https://rr.example/v1?top_n=3' },
      ],
    });
    assert.deepEqual(
      problems.map((p) => [p.nodeId, p.label, p.message]),
      [
        ['exp', 'export', "external URL 1 carries a credential in its query parameter 'token', which an export would write out"],
        ['exp', 'export', 'external URL 2 carries a user name or password (user:password@), which an export would write out'],
      ],
    );
  });
});
