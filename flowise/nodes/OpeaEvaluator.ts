/**
 * OPEA Evaluator (ending node): runs a dataset through the connected retriever and chat model and
 * scores it with the lexical and retrieval metrics of core/eval (exact match, F1, ROUGE, BLEU, hits,
 * MRR, MAP). The answer is a table of the means.
 */
import { parseDataset } from '../../core/eval/dataset';
import { LEXICAL_METRICS, MetricName, RETRIEVAL_METRICS, runEvaluation } from '../../core/eval/runner';
import { ENDING_CATEGORY, fmt, listInput, number } from '../ending';
import { retrieve } from '../langchain';
import { num, options } from '../common';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';

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
    { label: 'Dataset', name: 'dataset', type: 'string', rows: 6, placeholder: '[{"question": "...", "reference": "...", "reference_contexts": ["..."]}]', description: 'JSON array or JSON Lines' },
    { label: 'Metrics', name: 'metrics', type: 'multiOptions', options: options(...METRICS.map((m): [string, string] => [m, m])), default: '["f1","rougeL","hits","mrr"]' },
    number('k (hits@k)', 'k', 4, { additionalParams: true }),
    number('Concurrency', 'concurrency', 2, { additionalParams: true }),
  ];

  async init(): Promise<unknown> {
    return undefined;
  }

  async run(nodeData: INodeData, _input: string, _opts?: ICommonObject): Promise<string | ICommonObject> {
    const text = typeof nodeData.inputs?.dataset === 'string' ? nodeData.inputs.dataset.trim() : '';
    if (!text) throw new Error('OPEA Evaluator: fill in the dataset');
    const rows = parseDataset(text, text.startsWith('[') ? 'json' : 'jsonl');
    const metrics = listInput(nodeData.inputs?.metrics, ['f1', 'rougeL', 'hits', 'mrr']);
    const unknown = metrics.filter((m) => !METRICS.includes(m));
    if (unknown.length) throw new Error(`OPEA Evaluator: unknown metrics ${unknown.join(', ')} (use ${METRICS.join(', ')})`);
    const model = nodeData.inputs?.model as ChatLike | undefined;
    const retriever = nodeData.inputs?.retriever;
    const result = await runEvaluation(rows, {
      metrics: metrics as MetricName[],
      k: num(nodeData.inputs, 'k', 4),
      assertions: [],
      strictness: 3,
      concurrency: num(nodeData.inputs, 'concurrency', 2),
      prepare: async (row) => {
        const contexts = retriever ? (await retrieve(retriever, row.question)).map((d) => d.pageContent) : row.contexts;
        let answer = row.answer;
        if (model) {
          const prompt = contexts && contexts.length ? `Answer the question from the context.\n\nContext:\n${contexts.join('\n')}\n\nQuestion: ${row.question}` : row.question;
          const reply = await model.invoke(prompt);
          answer = typeof reply === 'string' ? reply : String(reply.content);
        }
        return { ...row, contexts, answer };
      },
    });
    const lines = result.metrics.map((m) => `| ${m} | ${fmt(result.aggregate[m]?.mean, 3)} | ${result.aggregate[m]?.scored ?? 0} |`);
    return { text: `Evaluated ${result.rows} rows.\n\n| metric | mean | rows scored |\n| --- | --- | --- |\n${lines.join('\n')}`, aggregate: result.aggregate, samples: result.samples };
  }
}

export const nodeClass = OpeaEvaluator;
