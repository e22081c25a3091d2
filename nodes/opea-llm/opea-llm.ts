/**
 * opea-llm: LLMParamsDoc (or a question) in; output 1 the whole GeneratedDoc {text, prompt, reasoning?} with
 * msg.metrics.llm and msg.contexts (the documents the answer was generated from); output 2, when streaming, one message per chunk with msg.parts, closed by an empty
 * part that carries parts.count (so a join node in automatic mode rebuilds the text).
 */
import { DEFAULT_CHAT_TEMPLATE } from '../../core/contract/documents';
import { LlmConfig, runLlm } from '../../core/stages/llm';
import { Msg, NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, readSettings } from '../shared/service-node';

module.exports = function register(RED: Red): void {
  function OpeaLlm(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-llm', config);
    const p = settings.params;
    const llm: LlmConfig = {
      backend: settings.backend,
      model: settings.model,
      maxTokens: p.maxTokens as number,
      temperature: p.temperature as number,
      topP: p.topP as number,
      topK: p.topK as number,
      repetitionPenalty: p.repetitionPenalty as number,
      stream: p.streaming as boolean,
      template: (p.template as string) || DEFAULT_CHAT_TEMPLATE,
    };
    const node = this;
    handleInput(this, 'llm', problems, async (msg, signal, send) => {
      const partsId = `${msg._msgid ?? node.id}-stream`;
      let index = 0;
      const chunk = (payload: string, count?: number) => {
        const out: Msg = { ...RED.util.cloneMessage(msg), payload, parts: { id: partsId, index, type: 'string', ch: '', ...(count === undefined ? {} : { count }) } };
        index += 1;
        send([null, out]);
      };
      const { doc, metrics, documents } = await runLlm(llm, endpointOf(RED, config.server), msg.payload, { model: msg.model, signal, onChunk: (text) => chunk(text) });
      if (index > 0) chunk('', index + 1);
      msg.payload = doc;
      msg.contexts = documents;
      const ttft = metrics.ttftMs === undefined ? '' : `, TTFT ${Math.round(metrics.ttftMs)} ms`;
      const ignored = metrics.ignored.length > 0 ? `, ${metrics.ignored.join(', ')} not applied` : '';
      return { status: `${metrics.completionTokens} tokens${ttft}${settings.backend === 'extractive' ? ' (extractive)' : ''}${ignored}`, metrics: { ...metrics } };
    });
  }
  RED.nodes.registerType('opea-llm', OpeaLlm);
};
