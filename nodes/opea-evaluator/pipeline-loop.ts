/**
 * Asks the wired pipeline: each question leaves on the evaluator's second output as a TextDoc
 * {text} tagged with msg._opeaEval, and the answer comes back on the evaluator's input, wired from
 * the end of the pipeline. A node of the pipeline that ends the tagged message with an error
 * (Node-RED's onComplete hook) fails the question at once instead of waiting for the timeout.
 */
import { randomUUID } from 'node:crypto';
import { PipelineAnswer, readPipelineAnswer } from '../../core/eval/pipeline-answer';
import { Done, Msg, Red, RedNode, Send } from '../shared/red';
import { errorText } from '../shared/service-node';

interface Tag {
  node: string;
  ask: string;
}

interface Pending {
  resolve(answer: PipelineAnswer): void;
  reject(err: Error): void;
}

function tagOf(msg: Msg): Tag | undefined {
  const tag = msg._opeaEval as Partial<Tag> | undefined;
  return tag && typeof tag.node === 'string' && typeof tag.ask === 'string' ? (tag as Tag) : undefined;
}

export class PipelineLoop {
  private readonly pending = new Map<string, Pending>();
  private readonly hookId: string;

  constructor(
    private readonly RED: Red,
    private readonly node: RedNode,
    private readonly timeoutMs: number,
  ) {
    this.hookId = `onComplete.opeaEval${node.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  /** Sends the question on `output` (0-based: 1 is output 2, the pipeline; 2 is output 3, the baseline) and resolves with what comes back. */
  ask(question: string, row: number, send: Send, signal?: AbortSignal, output = 1): Promise<PipelineAnswer> {
    const key = `${randomUUID()}:${output}:${row}`;
    if (this.pending.size === 0) this.RED.hooks?.add(this.hookId, (event) => this.onComplete(event.msg, event.error));
    return new Promise<PipelineAnswer>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new Error(`no answer came back from the pipeline within ${this.timeoutMs / 1000} s: wire the end of the pipeline (the node that gives the answer) to the evaluator's input, or raise the pipeline timeout`))), this.timeoutMs);
      const onAbort = () => finish(() => reject(new Error('the evaluation was cancelled')));
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(key);
        if (this.pending.size === 0) this.RED.hooks?.remove(this.hookId);
        settle();
      };
      this.pending.set(key, {
        resolve: (answer) => finish(() => resolve(answer)),
        reject: (err) => finish(() => reject(err)),
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      const outputs: (Msg | null)[] = Array.from({ length: output + 1 }, () => null);
      outputs[output] = { payload: { text: question }, topic: 'evaluation', _opeaEval: { node: this.node.id, ask: key } };
      send(outputs);
    });
  }

  /** Takes an answer that belongs to this evaluator (true), ending its message; other messages are not its own (false). */
  claim(msg: Msg, done: Done): boolean {
    const tag = tagOf(msg);
    if (!tag || tag.node !== this.node.id) return false;
    const waiting = this.pending.get(tag.ask);
    if (!waiting) {
      this.node.warn('an answer came back for a question this evaluator no longer waits for (it timed out, or the node was redeployed): ignored');
    } else {
      try {
        waiting.resolve(readPipelineAnswer(msg));
      } catch (err) {
        waiting.reject(err as Error);
      }
    }
    done();
    return true;
  }

  private onComplete(msg: Msg, error: unknown): void {
    if (error === undefined || error === null) return;
    const tag = tagOf(msg);
    if (!tag || tag.node !== this.node.id) return;
    this.pending.get(tag.ask)?.reject(new Error(`the pipeline failed: ${errorText(error)}`));
  }
}
