// What an export carries of an opea-llm node's prompt and memory: the library prompt in the bundle
// README and its template as chat_template; a warning with the reason where the deployment differs.
import assert from 'node:assert/strict';
import { loadPipeline } from '../../core/pipeline';
import { formatWarning } from '../../core/problems';
import { exportPipeline } from '../../exporters';

const LIBRARY = {
  id: 'lib',
  type: 'opea-prompt',
  name: 'prompts',
  prompts: [{ name: 'answer', version: '3', description: 'short answers', system: '', template: 'Context: {{context}}\nQ: {{question}} (be brief)' }],
};

function flow(llm: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  return [
    { id: 't', type: 'tab', label: 'T' },
    { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['e']] },
    { id: 'e', type: 'opea-embedding', z: 't', backend: 'tei', model: 'BAAI/bge-base-en-v1.5', wires: [['r']] },
    { id: 'r', type: 'opea-retriever', z: 't', backend: 'redis', wires: [['l']] },
    { id: 'l', type: 'opea-llm', z: 't', name: 'llm', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3', maxTokens: 100, streaming: false, ...llm, wires: [['out']] },
    { id: 'out', type: 'http response', z: 't', wires: [] },
    ...extra,
  ];
}

function exported(nodes: unknown[]) {
  const { pipeline, problems } = loadPipeline(nodes);
  assert.deepEqual(problems.items, []);
  const bundle = exportPipeline(pipeline, ['gmc'], { platform: 'xeon' }, problems);
  assert.ok(bundle, 'the export was refused');
  return { files: bundle as unknown as Record<string, string>, warnings: problems.warnings.map(formatWarning) };
}

describe('exports of prompts and memory', () => {
  it('a library prompt goes as chat_template and is listed in the bundle README with its version', () => {
    const { files, warnings } = exported(flow({ promptLibrary: 'lib', promptName: 'answer' }, [LIBRARY]));
    const readme = files['gmc/README.md'];
    assert.ok(readme.includes('llm (l) uses prompt `answer` version `3` of its prompt library (Handlebars):'), readme);
    assert.ok(readme.includes('Context: {{context}}\nQ: {{question}} (be brief)'));
    assert.ok(readme.includes('"chat_template": "Context: {context}\\nQ: {question} (be brief)"'));
    assert.ok(!warnings.some((w) => /builds its own prompt/.test(w)), warnings.join('\n'));
  });

  it('a template the service cannot fill, and a memory, are warnings on the node with the reason', () => {
    const memory = { id: 'mem', type: 'opea-memory', sessionFrom: 'msg', sessionKey: 'sessionId', maxTurns: 5, maxTokens: 1000 };
    const { files, warnings } = exported(flow({ userTemplate: '{{#each documents}}{{text}}\n{{/each}}Q: {{question}}', memory: 'mem' }, [memory]));
    const warning = warnings.find((w) => w.includes('node l (llm)'));
    assert.ok(warning, warnings.join('\n'));
    assert.match(warning, /builds its own prompt, not the flow's: its template cannot be the service's chat_template: it uses blocks/);
    assert.match(warning, /its conversation memory \(opea-memory\) stays in Node-RED/);
    assert.doesNotMatch(files['gmc/README.md'], /chat_template/);
  });

  it('a system template is a warning too: the LLMParamsDoc has no place for it', () => {
    const { warnings } = exported(flow({ systemTemplate: 'Be brief.', userTemplate: 'Q: {{question}}' }));
    assert.ok(warnings.some((w) => /its system prompt has no place in the LLMParamsDoc/.test(w)), warnings.join('\n'));
  });
});
