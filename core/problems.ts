/** One thing wrong with a flow, tied to the node it is about. */
export interface Problem {
  /** Node-RED node id, or '' when the problem is about the flow as a whole. */
  nodeId: string;
  /** What the user sees in the editor: the node's name, else its type. */
  label: string;
  message: string;
  fix: string;
  /** The export targets whose rule this is ('gmc', 'compose, ansible', ...); absent for the pipeline's own rules. */
  target?: string;
}

/** Makes any user string safe for a one-line report: no control characters, bounded length. */
export function oneLine(text: string, max = 80): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describe(p: Problem, maxMessage: number): string {
  const where = p.nodeId ? `node ${oneLine(p.nodeId, 40)} (${oneLine(p.label)})` : `flow (${oneLine(p.label)})`;
  const rule = p.target ? `[${oneLine(p.target, 40)}] ` : '';
  return `${where}: ${rule}${oneLine(p.message, maxMessage)} — ${oneLine(p.fix, 400)}`;
}

/**
 * One line: `node <id> (<label>): <what is wrong> — <how to fix>`, with `[<targets>] ` before what is
 * wrong when it is an export target's rule (takes one argument: safe for Array.map).
 */
export function formatProblem(p: Problem): string {
  return describe(p, 400);
}

/**
 * A warning reads like a problem, marked so: the export goes ahead, but something differs from the
 * flow. One warning gathers every difference of its node, so it may run longer.
 */
export function formatWarning(p: Problem): string {
  return `warning: ${describe(p, 2000)}`;
}

/**
 * Collects problems, then throws them all at once. Warnings beside them do not stop an export: they
 * say where the deployed pipeline will behave differently from the flow, or what an import could not
 * place, and how to make up for it.
 */
export class ProblemList {
  readonly items: Problem[] = [];
  readonly warnings: Problem[] = [];

  add(nodeId: string, label: string, message: string, fix: string): void {
    this.items.push({ nodeId, label, message, fix });
  }

  warn(nodeId: string, label: string, message: string, fix: string): void {
    this.warnings.push({ nodeId, label, message, fix });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }
}
