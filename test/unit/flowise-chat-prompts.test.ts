// The OPEA Chat Model in Flowise takes opea-llm's system prompt and prompt template (Handlebars); the
// loopback vLLM (test/support/llm-upstream.ts) records the messages it is sent.
import assert from 'node:assert/strict';
import { ICommonObject, INodeData } from '../../flowise/interface';
import { nodeClass as ChatModel, ChatModelLike } from '../../flowise/nodes/OpeaChatModel';
import { LlmUpstream } from '../support/llm-upstream';

/* eslint-disable @typescript-eslint/no-require-imports */
const messages = () => require('@langchain/core/messages');

function nodeData(inputs: ICommonObject): INodeData {
  const node = new ChatModel();
  return { id: 'opeaChatModel_0', label: node.label, name: node.name, type: node.type, icon: node.icon, version: node.version, category: node.category, baseClasses: node.baseClasses, inputs, outputs: {} };
}
const init = async (inputs: ICommonObject) => (await new ChatModel().init(nodeData(inputs), '', {})) as ChatModelLike & ICommonObject;

describe('Flowise OPEA Chat Model: system prompt and prompt template', () => {
  let upstream: LlmUpstream;
  beforeEach(async () => {
    upstream = await LlmUpstream.start('vllm');
  });
  afterEach(async () => {
    await upstream.close();
  });
  const sent = () => (upstream.last.body as { messages: { role: string; content: string }[] }).messages.map((m) => `${m.role}: ${m.content}`);

  it('sends the system prompt first and the last user message through the template; earlier turns stay chat messages', async () => {
    const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: upstream.url, streaming: false, systemPrompt: 'Answer in {{default lang "English"}}.', promptTemplate: 'Q: {{truncate question 3}}' });
    const { HumanMessage, AIMessage } = messages();
    await model.invoke([new HumanMessage('Hello'), new AIMessage('Hi!'), new HumanMessage('one two three four five')]);
    assert.deepEqual(sent(), ['system: Answer in English.', 'user: Hello', 'assistant: Hi!', 'user: Q: one two three']);
  });

  it('a template that prints {{history}} gets the earlier turns there, not as chat messages', async () => {
    const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: upstream.url, streaming: false, promptTemplate: '{{history}}\nNow: {{question}}' });
    const { HumanMessage, AIMessage } = messages();
    await model.invoke([new HumanMessage('Hello'), new AIMessage('Hi!'), new HumanMessage('Bye')]);
    assert.deepEqual(sent(), ['user: user: Hello\nassistant: Hi!\nNow: Bye']);
  });

  it('without either, the messages go as they are', async () => {
    const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: upstream.url, streaming: false });
    await model.invoke('Plain {{question}} text');
    assert.deepEqual(sent(), ['user: Plain {{question}} text']);
  });

  it('a malformed template is refused when the node is built, with the input, line and column', async () => {
    await assert.rejects(init({ backend: 'vllm', modelName: 'm', baseUrl: upstream.url, promptTemplate: 'ok\n{{#each history}}{{content}}' }), /Prompt Template has a template error at line 2, column \d+: expected the \{\{\/…\}\} that closes a block/);
    await assert.rejects(init({ backend: 'vllm', modelName: 'm', baseUrl: upstream.url, systemPrompt: '{{shout question}}' }), /System Prompt has a template error at line 1, column 1: 'shout' is not a helper here/);
    assert.equal(upstream.served.length, 0);
  });
});
