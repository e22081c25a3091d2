/**
 * opea-llm: LLMParamsDoc (or a question) in; output 1 the whole GeneratedDoc {text, prompt, reasoning?} with
 * msg.metrics.llm and msg.contexts (the documents the answer was generated from); output 2, when streaming, one message per chunk with msg.parts, closed by an empty
 * part that carries parts.count (so a join node in automatic mode rebuilds the text).
 * The prompt comes from the node's Handlebars templates, its prompt library's prompt, or msg.prompt;
 * with a memory, the session's earlier turns go before the question and the new turn is kept.
 */
import { ContractError, DEFAULT_CHAT_TEMPLATE, textOf } from '../../core/contract/documents';
import { DEFAULT_USER_TEMPLATE, PromptTemplates } from '../../core/prompts/apply';
import { templatesOf } from '../../core/prompts/library';
import { PROMPTS, variableNames } from '../../core/prompts/settings';
import { LlmConfig, runLlm } from '../../core/stages/llm';
import { Msg, NodeConfig, Red, RedNode } from '../shared/red';
import { configNode, endpointOf, handleInput, labelOf, readSettings } from '../shared/service-node';
import type { PromptLibraryNode } from '../opea-prompt/opea-prompt';
import type { MemoryNode } from '../opea-memory/opea-memory';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

module.exports = function register(RED: Red): void {
  function OpeaLlm(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-llm', config);
    const p = settings.params;
    const node = this;
    const templates = (system: string, user: string): PromptTemplates => templatesOf({ system, template: user.trim() === '' ? DEFAULT_USER_TEMPLATE : user }, PROMPTS);
    let prompts: PromptTemplates | undefined;
    if (problems.length === 0) prompts = templates(p.systemTemplate as string, p.userTemplate as string);
    else node.error(`${labelOf(node)} (${node.id}): ${problems.join('; ')} — fix the node's settings and deploy again`);
    const llm: LlmConfig = {
      backend: settings.backend,
      model: settings.model,
      maxTokens: p.maxTokens as number,
      temperature: p.temperature as number,
      topP: p.topP as number,
      topK: p.topK as number,
      repetitionPenalty: p.repetitionPenalty as number,
      stream: p.streaming as boolean,
      template: DEFAULT_CHAT_TEMPLATE,
      prompts,
    };
    const names = variableNames(p.variables as string);
    const library = () => configNode<PromptLibraryNode>(RED, p.promptLibrary, 'prompt library');

    /** The templates for this message: msg.prompt's, the library prompt the node names, or the node's own. */
    function promptsFor(msg: Msg): { templates?: PromptTemplates; used?: string } {
      const asked = msg.prompt;
      if (asked !== undefined && asked !== null && asked !== '') {
        const byName = typeof asked === 'string' ? { name: asked, version: '' } : isObject(asked) && typeof asked.name === 'string' ? { name: asked.name, version: typeof asked.version === 'string' ? asked.version : '' } : undefined;
        if (byName) {
          const lib = library();
          if (!lib) throw new ContractError(`msg.prompt names prompt ${byName.name}, but the node has no prompt library`, 'choose an opea-prompt library in the node, or remove msg.prompt');
          const { prompt, templates: t } = lib.pick(byName.name, byName.version);
          return { templates: t, used: `${prompt.name} ${prompt.version}` };
        }
        if (isObject(asked) && typeof asked.template === 'string') {
          if (p.messageTemplates !== true) throw new ContractError('msg.prompt carries template text, which this node does not take from a message', 'send a library prompt name in msg.prompt, or turn on "message templates" in the node');
          const system = typeof asked.system === 'string' ? asked.system : '';
          return { templates: templates(system, asked.template), used: 'msg.prompt' };
        }
        throw new ContractError('msg.prompt is neither a prompt name nor {name, version}', 'send msg.prompt as "name" or {name: "...", version: "..."}, or remove it');
      }
      if (p.promptName !== '') {
        const lib = library();
        if (!lib) throw new ContractError(`it names prompt ${p.promptName as string} but has no prompt library`, 'choose an opea-prompt library in the node');
        const { prompt, templates: t } = lib.pick(p.promptName as string, p.promptVersion as string);
        return { templates: t, used: `${prompt.name} ${prompt.version}` };
      }
      return {};
    }

    handleInput(this, 'llm', problems, async (msg, signal, send) => {
      const memoryNode = configNode<MemoryNode>(RED, p.memory, 'memory');
      const session = memoryNode?.sessionOf(msg);
      const memory = memoryNode?.memory();
      if (memory && session !== undefined && msg.memory === 'clear') {
        await memory.forget(session);
        if (textOf(msg.payload) === null || textOf(msg.payload)?.trim() === '') return { status: `session ${session.slice(0, 20)} cleared` };
      }
      const remembered = memory && session !== undefined ? await memory.recall(session) : [];
      const { templates: chosen, used } = promptsFor(msg);
      const variables = Object.fromEntries(names.map((name) => [name, msg[name]]));
      const partsId = `${msg._msgid ?? node.id}-stream`;
      let index = 0;
      const chunk = (payload: string, count?: number) => {
        const out: Msg = { ...RED.util.cloneMessage(msg), payload, parts: { id: partsId, index, type: 'string', ch: '', ...(count === undefined ? {} : { count }) } };
        index += 1;
        send([null, out]);
      };
      const question = textOf(msg.payload);
      const { doc, metrics, documents } = await runLlm(llm, endpointOf(RED, config.server), msg.payload, { model: msg.model, signal, onChunk: (text) => chunk(text), prompts: chosen, variables, remembered });
      if (index > 0) chunk('', index + 1);
      if (memory && session !== undefined && question !== null) await memory.remember(session, question, doc.text);
      msg.payload = doc;
      msg.contexts = documents;
      const ttft = metrics.ttftMs === undefined ? '' : `, TTFT ${Math.round(metrics.ttftMs)} ms`;
      const ignored = metrics.ignored.length > 0 ? `, ${metrics.ignored.join(', ')} not applied` : '';
      const noSession = memoryNode && session === undefined ? `, no session id (${memoryNode.source})` : '';
      const extra = { ...(used ? { prompt: used } : {}), ...(memoryNode ? { session: session ?? null, remembered: remembered.length / 2 } : {}) };
      return { status: `${metrics.completionTokens} tokens${ttft}${settings.backend === 'extractive' ? ' (extractive)' : ''}${ignored}${noSession}`, metrics: { ...metrics, ...extra } };
    });
  }
  RED.nodes.registerType('opea-llm', OpeaLlm);
};
