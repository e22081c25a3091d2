/**
 * OPEA Evaluator (ending node): runs a dataset through the connected retriever and chat model and
 * scores it with the lexical and retrieval metrics of core/eval (exact match, F1, ROUGE, BLEU, hits,
 * MRR, MAP). The answer is a table of the means.
 */
import { EvalRow, parseDataset } from '../../core/eval/dataset';
import { LEXICAL_METRICS, MetricName, RETRIEVAL_METRICS, runEvaluation } from '../../core/eval/runner';
import { ENDING_CATEGORY, fmt, listInput, number } from '../ending';
import { retrieve } from '../langchain';
import { num, options } from '../common';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { asFlowise, nodeName } from '../words';

const METRICS = [...LEXICAL_METRICS, ...RETRIEVAL_METRICS] as string[];

interface ChatLike {
  invoke(input: unknown): Promise<{ content: unknown } | string>;
}

export class OpeaEvaluator implements INode {
  label = 'OPEA Evaluator';
  name = 'opeaEvaluator';
  version = 1.0;
  type = 'OpeaEvaluator';
  icon = 'opea-evaluator.svg';
  category = ENDING_CATEGORY;
  description = 'Scores the connected retriever and chat model on a dataset (question, reference, reference contexts): exact match, F1, ROUGE, BLEU, hits@k, MRR, MAP';
  baseClasses = [this.type];
  inputs: INodeParams[] = [
    { label: 'Chat Model', name: 'model', type: 'BaseChatModel', optional: true },
    { label: 'Retriever', name: 'retriever', type: 'BaseRetriever', optional: true },
    { label: 'Dataset', name: 'dataset', type: 'string', rows: 6, placeholder: '[{"question": "...", "reference": "...", "reference_contexts": ["..."]}]', description: 'JSON array or JSON Lines; each row has question and any of id, answer, contexts, reference, reference_contexts (other keys are refused, naming the key)' },
    { label: 'Metrics', name: 'metrics', type: 'multiOptions', options: options(...METRICS.map((m): [string, string] => [m, m])), default: '["f1","rougeL","hits","mrr"]' },
    number('k (hits@k)', 'k', 4, { additionalParams: true }),
    number('Concurrency', 'concurrency', 2, { additionalParams: true }),
  ];

  async init(): Promise<unknown> {
    return undefined;
  }

  async run(nodeData: INodeData, _input: string, _opts?: ICommonObject): Promise<string | ICommonObject> {
    const node = nodeName(nodeData);
    return asFlowise(node, () => this.evaluate(nodeData));
  }

  private async evaluate(nodeData: INodeData): Promise<ICommonObject> {
    const text = typeof nodeData.inputs?.dataset === 'string' ? nodeData.inputs.dataset.trim() : '';
    if (!text) throw new Error('fill in Dataset');
    const rows = parseDataset(text, text.startsWith('[') ? 'json' : 'jsonl');
    const metrics = listInput(nodeData.inputs?.metrics, ['f1', 'rougeL', 'hits', 'mrr']);
    const unknown = metrics.filter((m) => !METRICS.includes(m));
    if (unknown.length) throw new Error(`unknown metrics ${unknown.join(', ')} (use ${METRICS.join(', ')})`);
    const model = nodeData.inputs?.model as ChatLike | undefined;
    const retriever = nodeData.inputs?.retriever;
    const result = await runEvaluation(rows, {
      metrics: metrics as MetricName[],
      k: num(nodeData.inputs, 'k', 4),
      assertions: [],
      strictness: 3,
      concurrency: num(nodeData.inputs, 'concurrency', 2),
      prepare: async (row, _index, _signal, calls) => {
        let contexts = row.contexts;
        if (retriever) {
          calls.retriever += 1;
          contexts = (await retrieve(retriever, row.question)).map((d) => d.pageContent);
        }
        let answer = row.answer;
        if (model) {
          const prompt = contexts && contexts.length ? `Answer the question from the context.\n\nContext:\n${contexts.join('\n')}\n\nQuestion: ${row.question}` : row.question;
          calls.chat += 1;
          const reply = await model.invoke(prompt);
          answer = typeof reply === 'string' ? reply : String(reply.content);
        }
        return { ...row, contexts, answer };
      },
    });
    const lines = result.metrics.map((m) => `| ${m} | ${fmt(result.aggregate[m]?.mean, 3)} | ${result.aggregate[m]?.scored ?? 0} |`);
    const calls = `Calls: ${result.chatCalls} to the chat model, ${result.retrieverCalls} to the retriever.`;
    const notes = replacedFields(rows, Boolean(model), Boolean(retriever));
    return {
      text: [`Evaluated ${result.rows} rows.`, calls, ...notes, '', '| metric | mean | rows scored |', '| --- | --- | --- |', ...lines].join('\n'),
      aggregate: result.aggregate,
      samples: result.samples,
      calls: { chat: result.chatCalls, retriever: result.retrieverCalls },
    };
  }
}

/** Says which of the rows' own fields the connected nodes replaced, rather than dropping them unseen. */
function replacedFields(rows: EvalRow[], model: boolean, retriever: boolean): string[] {
  const count = (has: (r: EvalRow) => boolean) => rows.filter(has).length;
  const notes: string[] = [];
  const answers = count((r) => r.answer !== undefined);
  const contexts = count((r) => r.contexts !== undefined);
  if (model && answers) notes.push(`The answer of ${answers} row${answers > 1 ? 's' : ''} was replaced by the chat model's answer (disconnect the chat model to score the dataset's answers).`);
  if (retriever && contexts) notes.push(`The contexts of ${contexts} row${contexts > 1 ? 's' : ''} were replaced by the retriever's documents (disconnect the retriever to score the dataset's contexts).`);
  return notes;
}

export const nodeClass = OpeaEvaluator;
