import assert from 'node:assert/strict';
import { DEFAULT_CHAT_TEMPLATE, renderPrompt, serviceTemplate } from '../../core/contract/documents';
import { loadPipeline } from '../../core/pipeline';
import { migrateNode } from '../../core/migrations';
import { DEFAULT_USER_TEMPLATE } from '../../core/prompts/apply';
import { compareVersions, findPrompt, readLibrary } from '../../core/prompts/library';
import { handlebarsFromPlaceholders } from '../../core/prompts/placeholders';
import { servicePrompt } from '../../core/prompts/service';
import { variableNamesProblem } from '../../core/prompts/settings';
import { compilePrompt, PromptCache, PromptTemplateError } from '../../core/prompts/template';
import { countTokens } from '../../core/tokens';

const DOCS = [
  { text: 'Paris is the capital of France.', score: 0.91, metadata: { source: 'france.md' } },
  { text: 'Berlin is the capital of Germany.', score: 0.5, metadata: { source: 'germany.md' } },
];
const data = (extra: Partial<Parameters<ReturnType<typeof compilePrompt>['render']>[0]> = {}) => ({ question: 'What is the <capital> of France?', documents: DOCS, history: [], ...extra });

function templateError(source: string): PromptTemplateError {
  try {
    compilePrompt(source);
  } catch (err) {
    assert.ok(err instanceof PromptTemplateError, String(err));
    return err;
  }
  assert.fail(`${JSON.stringify(source)} compiled`);
}

/** A small deterministic generator (mulberry32), so the fuzz cases are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Handlebars prompt templates', () => {
  it('loops over the documents with text, score and metadata, and prints the question unescaped', () => {
    const prompt = compilePrompt('{{#each documents}}[{{@index}}] {{text}} ({{score}}, {{metadata.source}})\n{{/each}}Q: {{question}}').render(data());
    assert.equal(prompt, '[0] Paris is the capital of France. (0.91, france.md)\n[1] Berlin is the capital of Germany. (0.5, germany.md)\nQ: What is the <capital> of France?');
  });

  it('prints {{history}} as role: content lines and loops over it; says that it uses the history', () => {
    const history = [{ role: 'user' as const, content: 'Hi & hello' }, { role: 'assistant' as const, content: 'Hello!' }];
    const template = compilePrompt('{{history}}\n{{#each history}}<{{role}}>{{/each}}');
    assert.equal(template.render(data({ history })), 'user: Hi & hello\nassistant: Hello!\n<user><assistant>');
    assert.equal(template.usesHistory, true);
    assert.equal(compilePrompt('{{question}}').usesHistory, false);
  });

  it('gives the message properties the node names, and {{context}} as the texts one per line', () => {
    const prompt = compilePrompt('{{customer.tier}}/{{topic}}: {{context}}').render(data({ variables: { customer: { tier: 'gold' }, topic: 'geo' } }));
    assert.equal(prompt, 'gold/geo: Paris is the capital of France.\nBerlin is the capital of Germany.');
  });

  it('helpers: truncate counts cl100k_base tokens, join joins documents by their text, default fills a missing value', () => {
    const long = 'one two three four five six seven eight nine ten';
    const cut = compilePrompt('{{truncate text 4}}').render(data({ variables: { text: long } }));
    assert.equal(countTokens(cut), 4);
    assert.ok(long.startsWith(cut));
    assert.equal(compilePrompt('{{truncate text 100}}').render(data({ variables: { text: long } })), long);
    assert.equal(compilePrompt('{{join documents " | "}}').render(data()), 'Paris is the capital of France. | Berlin is the capital of Germany.');
    assert.equal(compilePrompt('{{join tags}}').render(data({ variables: { tags: ['a', 'b'] } })), 'a\nb');
    assert.equal(compilePrompt('{{default tier "free"}}|{{default name "x"}}').render(data({ variables: { tier: '', name: 'Ann' } })), 'free|Ann');
  });

  it('refuses malformed templates with the line and column', () => {
    const unclosed = templateError('Context:\n{{#each documents}}\n  {{text}\n{{/each}}');
    assert.equal(unclosed.line, 3);
    assert.equal(unclosed.column, 5);
    assert.match(unclosed.message, /^template error at line 3, column 5: expected a closing \}\}/);
    const open = templateError('Q: {{question}}\n{{#each documents}}{{text}}');
    assert.equal(open.line, 2);
    assert.match(open.message, /the \{\{\/…\}\} that closes a block, found the end of the template/);
    const mismatched = templateError('a\n{{#if x}}b{{/each}}');
    assert.equal(mismatched.line, 2);
    assert.match(mismatched.message, /if doesn't match each/);
  });

  it('refuses helpers it does not have and partials, where they are', () => {
    const helper = templateError('ok\n  {{upper question}}');
    assert.deepEqual([helper.line, helper.column], [2, 3]);
    assert.match(helper.message, /'upper' is not a helper here/);
    assert.match(templateError('{{> footer}}').message, /partials/);
  });

  it('compiles a template once: the cache gives the same compiled template back, and stays bounded', () => {
    const cache = new PromptCache(2);
    const first = cache.get('A {{question}}');
    assert.equal(cache.get('A {{question}}'), first);
    cache.get('B {{question}}');
    cache.get('C {{question}}');
    assert.notEqual(cache.get('A {{question}}'), first, 'the oldest entry went when a third came');
  });

  it('says a template in the service\'s {context}/{question} form when it can, and why not otherwise', () => {
    assert.equal(compilePrompt('C: {{context}}\n{{! note }}Q: {{question}} {"json": 1}').placeholderForm, 'C: {context}\nQ: {question} {"json": 1}');
    assert.match(compilePrompt('{{#each documents}}{{text}}{{/each}}{{question}}').whyNoPlaceholderForm ?? '', /blocks/);
    assert.match(compilePrompt('{{context}}').whyNoPlaceholderForm ?? '', /does not use \{\{question\}\}/);
    assert.match(compilePrompt('{{topic}} {{question}}').whyNoPlaceholderForm ?? '', /\{\{topic\}\}/);
  });

  it('checks the variable names a node lists', () => {
    assert.equal(variableNamesProblem('topic, user  tier'), undefined);
    assert.match(variableNamesProblem('topic, user.name') ?? '', /'user\.name'/);
    assert.match(variableNamesProblem('question') ?? '', /every template already has/);
    assert.match(variableNamesProblem('res') ?? '', /cannot be a prompt variable/);
    assert.equal(variableNamesProblem('req payload'), undefined);
  });
});

describe('the {context}/{question} template of earlier releases, migrated to Handlebars', () => {
  it('renders the very prompt renderPrompt gave, for generated templates full of braces, backslashes and placeholders', () => {
    const pieces = ['{', '}', '\\', 'a', ' ', '\n', '{context}', '{question}', '{{', '}}', '$&', '{{context}}', '{{{', '\\{{'];
    const next = random(18);
    for (let n = 0; n < 3000; n++) {
      let old = '';
      const length = Math.floor(next() * 14);
      for (let i = 0; i < length; i++) old += pieces[Math.floor(next() * pieces.length)];
      const migrated = compilePrompt(handlebarsFromPlaceholders(old));
      const rendered = migrated.render({ question: 'Q {question}?', documents: [{ text: 'd1 {{x}}' }, { text: 'd2' }], history: [] });
      assert.equal(rendered, renderPrompt(old, 'Q {question}?', ['d1 {{x}}', 'd2']), JSON.stringify(old));
      // and the OPEA service is sent the chat_template it was sent before
      assert.equal(serviceTemplate(migrated.placeholderForm ?? 'none'), serviceTemplate(old), JSON.stringify(old));
    }
  });

  it('migrates a saved opea-llm template into userTemplate, and leaves a current node as it is', () => {
    const old = { id: 'l', type: 'opea-llm', template: 'Use {context} for {question}', configVersion: 2 };
    assert.deepEqual(migrateNode(old), { id: 'l', type: 'opea-llm', userTemplate: 'Use {{context}} for {{question}}', configVersion: 2 });
    assert.equal(old.template, 'Use {context} for {question}', 'the input is not changed');
    const current = { id: 'l', type: 'opea-llm', userTemplate: '{{question}}' };
    assert.equal(migrateNode(current), current);
    // An editor that kept the old property and saved the new field blank: the old template still counts.
    assert.equal(migrateNode({ id: 'l', type: 'opea-llm', template: 'T {question}', userTemplate: '' }).userTemplate, 'T {{question}}');
    assert.equal(migrateNode({ id: 'l', type: 'opea-llm', template: 'T {question}', userTemplate: 'New {{question}}' }).userTemplate, 'New {{question}}');
  });

  it('the built-in template keeps sending the service the chat_template it sent before', () => {
    assert.deepEqual(servicePrompt({ userTemplate: '' }), { chatTemplate: serviceTemplate(DEFAULT_CHAT_TEMPLATE) });
    assert.equal(DEFAULT_USER_TEMPLATE, handlebarsFromPlaceholders(DEFAULT_CHAT_TEMPLATE));
    assert.deepEqual(servicePrompt({ userTemplate: 'Q: {{question}} {"a": 1}' }), { chatTemplate: 'Q: {question} {{"a": 1}}' });
    assert.match((servicePrompt({ userTemplate: '{{question}}', systemTemplate: 'Be brief.' }) as { why: string }).why, /system prompt/);
  });

  it('a flow saved with the old template exports the same chat_template, and a malformed one is refused by validate with line and column', () => {
    const flow = (llm: Record<string, unknown>) => [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['l']] },
      { id: 'l', type: 'opea-llm', z: 't', backend: 'tgi', model: 'org/model', ...llm, wires: [['out']] },
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const old = loadPipeline(flow({ template: 'Docs: {context}\nAsk: {question}' }));
    assert.deepEqual(old.problems.items, []);
    const params = old.pipeline.graph.components[0].params;
    assert.deepEqual(servicePrompt(params), { chatTemplate: 'Docs: {context}\nAsk: {question}' });
    const bad = loadPipeline(flow({ userTemplate: 'Docs:\n{{#each documents}}{{text}\n{{/each}}' }));
    assert.equal(bad.problems.items.length, 1);
    assert.equal(bad.problems.items[0].nodeId, 'l');
    assert.match(bad.problems.items[0].message, /^userTemplate has a template error at line 2, column \d+: expected a closing \}\}/);
  });
});

describe('prompt library', () => {
  const saved = [
    { name: 'answer', version: '1', description: 'first', system: '', template: 'v1 {{question}}' },
    { name: 'answer', version: '1.10', description: 'latest', system: 'Be brief.', template: 'v1.10 {{question}}' },
    { name: 'answer', version: '1.9', description: '', system: '', template: 'v1.9 {{question}}' },
  ];

  it('picks the named version, else the highest (versions compare as dotted numbers)', () => {
    const { prompts, problems } = readLibrary(saved, new PromptCache());
    assert.deepEqual(problems, []);
    assert.equal(findPrompt(prompts, 'answer')?.version, '1.10');
    assert.equal(findPrompt(prompts, 'answer', '1.9')?.template, 'v1.9 {{question}}');
    assert.equal(findPrompt(prompts, 'answer', '2'), undefined);
    assert.equal(findPrompt(prompts, 'other'), undefined);
    assert.ok(compareVersions('1.10', '1.9') > 0 && compareVersions('2', '10') < 0 && compareVersions('1.0', '1') === 0);
  });

  it('names the prompt, its part, the line and the column of a template error; refuses repeated versions and nameless prompts', () => {
    const { problems } = readLibrary([...saved, { name: 'answer', version: '1' , template: 'x {{question}}' }, { name: 'broken', version: '2', template: 'ok\n{{#if}}' }, { name: '', template: '{{question}}' }], new PromptCache());
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0], /prompt 4 \(answer 1\) repeats a name and version/);
    assert.match(problems[1], /prompt 5 \(broken 2\): its template has a template error at line 2, column \d+/);
    assert.match(problems[2], /prompt 6 needs a name/);
  });

  it('an export carries the library prompt the node names, and validate names a missing prompt', () => {
    const flow = (promptName: string) => [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'lib', type: 'opea-prompt', name: 'prompts', prompts: saved },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['l']] },
      { id: 'l', type: 'opea-llm', z: 't', backend: 'tgi', model: 'org/model', promptLibrary: 'lib', promptName, wires: [['out']] },
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const ok = loadPipeline(flow('answer'));
    assert.deepEqual(ok.problems.items, []);
    const params = ok.pipeline.graph.components[0].params;
    assert.deepEqual([params.userTemplate, params.systemTemplate, params.promptVersion], ['v1.10 {{question}}', 'Be brief.', '1.10']);
    const missing = loadPipeline(flow('summary'));
    assert.match(missing.problems.items[0]?.message ?? '', /has no prompt summary \(it has answer 1, 1\.10, 1\.9\)/);
  });
});
