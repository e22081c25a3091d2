/**
 * Turns a PipelineGraph into the routing plan every target shares: a sequence of stages in which a
 * core switch becomes a Switch of branches and a fan-out gathered by a join becomes an Ensemble.
 * Reports every structural problem at once.
 */
import { Component, Endpoint, GraphNode, indexGraph, JoinRoute, Kind, PipelineGraph, SwitchRoute } from './model';
import { oneLine, ProblemList } from './problems';

export type Stage =
  | { type: 'component'; component: Component }
  | { type: 'switch'; route: SwitchRoute; branches: SwitchBranch[] }
  | { type: 'ensemble'; join: JoinRoute; branches: Stage[][] };

/** One output of a switch: the requests whose key equals `value`, or (otherwise) those no rule matches. */
export interface SwitchBranch {
  value: string;
  otherwise: boolean;
  stages: Stage[];
}

export interface Plan {
  /** The served http in, when the pipeline has one. */
  entry?: Endpoint;
  stages: Stage[];
  /** Components deployed beside the routed pipeline (dataprep). */
  sideComponents: Component[];
}

function labelOf(node: GraphNode | undefined, id: string): string {
  return node ? node.node.label : id;
}

class Planner {
  private readonly index: Map<string, GraphNode>;
  private readonly succ = new Map<string, string[][]>();
  private readonly pred = new Map<string, string[]>();
  private readonly placed = new Set<string>();

  constructor(
    private readonly graph: PipelineGraph,
    private readonly problems: ProblemList,
  ) {
    this.index = indexGraph(graph);
    for (const edge of graph.edges) {
      const ports = this.succ.get(edge.from) ?? [];
      while (ports.length <= edge.port) ports.push([]);
      ports[edge.port].push(edge.to);
      this.succ.set(edge.from, ports);
      this.pred.set(edge.to, [...(this.pred.get(edge.to) ?? []), edge.from]);
    }
  }

  private out(id: string, port = 0): string[] {
    return this.succ.get(id)?.[port] ?? [];
  }

  private allOut(id: string): string[] {
    return (this.succ.get(id) ?? []).flat();
  }

  private add(id: string, message: string, fix: string): void {
    this.problems.add(id, labelOf(this.index.get(id), id), message, fix);
  }

  private routed(): string[] {
    return [...this.index.keys()].filter((id) => this.index.get(id)?.type !== 'component' || (this.index.get(id)?.node as Component).kind !== 'dataprep');
  }

  /** Reports the first cycle found (iteratively: a long chain must not exhaust the call stack). */
  findCycle(): boolean {
    const state = new Map<string, 1 | 2>();
    for (const root of this.routed()) {
      if (state.has(root)) continue;
      const path: string[] = [root];
      const cursor: number[] = [0];
      state.set(root, 1);
      while (path.length > 0) {
        const id = path[path.length - 1];
        const next = this.allOut(id)[cursor[cursor.length - 1]++];
        if (next === undefined) {
          state.set(id, 2);
          path.pop();
          cursor.pop();
        } else if (state.get(next) === 1) {
          const cycle = [...path.slice(path.indexOf(next)), next].map((n) => oneLine(labelOf(this.index.get(n), n), 30));
          this.add(next, `it is part of a cycle: ${cycle.join(' -> ')}`, 'a pipeline runs once per request; remove the wire that leads back');
          return true;
        } else if (!state.has(next)) {
          state.set(next, 1);
          path.push(next);
          cursor.push(0);
        }
      }
    }
    return false;
  }

  /** The first node, in breadth-first order from the first start, that every start reaches. */
  private meetingPoint(starts: string[]): string | null {
    const reach = (start: string): string[] => {
      const order: string[] = [];
      const seen = new Set<string>([start]);
      const queue = [start];
      while (queue.length) {
        const id = queue.shift() as string;
        order.push(id);
        for (const next of this.allOut(id)) if (!seen.has(next)) (seen.add(next), queue.push(next));
      }
      return order;
    };
    const [first = [], ...rest] = starts.map(reach);
    const others = rest.map((r) => new Set(r));
    return first.find((id) => others.every((s) => s.has(id))) ?? null;
  }

  /**
   * Follows a chain starting at `targets` (the receivers of `origin`'s output) until `stop`.
   * `upstream` holds the kinds already passed, to check the message contract.
   */
  sequence(origin: string, targets: string[], stop: string | null, upstream: Set<Kind>, needsExit: boolean): Stage[] {
    const stages: Stage[] = [];
    let from = origin;
    let next = targets;
    for (;;) {
      if (next.length === 0) {
        if (needsExit && from !== stop) {
          this.add(from, 'its output is not wired to a next stage or an http response', 'wire it on, so the request gets its answer');
        }
        return stages;
      }
      if (next.length > 1) {
        const meet = this.meetingPoint(next);
        const join = meet ? this.index.get(meet) : undefined;
        if (!meet || join?.type !== 'join') {
          this.add(from, `its output fans out to ${next.map((n) => oneLine(labelOf(this.index.get(n), n), 30)).join(', ')} without a join gathering them`, 'wire the branches into one join node (an ensemble), or route with a switch node');
          return stages;
        }
        const branches = next.map((start) => this.sequence(from, [start], meet, new Set(upstream), needsExit));
        for (const branch of branches) kindsOf(branch).forEach((k) => upstream.add(k));
        stages.push({ type: 'ensemble', join: join.node as JoinRoute, branches });
        from = meet;
        next = this.out(meet);
        continue;
      }
      const id = next[0];
      if (id === stop) return stages;
      const node = this.index.get(id);
      if (!node) return stages;
      if (this.placed.has(id)) {
        this.add(id, 'wires reach it from two places that do not join or merge cleanly', 'let each branch of a switch or fan-out end at the same next stage');
        return stages;
      }
      this.placed.add(id);
      switch (node.type) {
        case 'exit':
          return stages;
        case 'entry':
          this.add(id, 'a wire leads into an http in node', 'remove that wire');
          return stages;
        case 'join':
          this.add(id, 'this join has no fan-out in front of it', 'wire one node to several branches and gather them here, or remove the join');
          return stages;
        case 'component':
          this.checkContract(node.node, upstream);
          upstream.add(node.node.kind);
          stages.push({ type: 'component', component: node.node });
          from = id;
          next = this.out(id);
          continue;
        case 'switch': {
          const route = node.node;
          if (route.source === 'payload' && upstream.size > 0) {
            this.add(id, `it tests msg.payload.${oneLine(route.key, 40)} after earlier stages replaced the payload`, `test msg.req.body.${oneLine(route.key, 40)}: the original request, which is what GMC's router tests`);
          }
          const rules = route.otherwise ? [...route.values, ''] : route.values;
          const ports = rules.map((_, i) => this.out(id, i));
          let broken = false;
          ports.forEach((port, i) => {
            if (port.length !== 1) {
              const rule = i < route.values.length ? `== ${oneLine(route.values[i], 30)}` : 'otherwise';
              this.add(id, `output ${i + 1} (${rule}) is wired to ${port.length} nodes`, 'wire each output to exactly one node: the first stage of its branch');
              broken = true;
            }
          });
          if (broken || ports.length === 0) return stages;
          const starts = ports.map((p) => p[0]);
          const meet = this.meetingPoint(starts);
          if (meet && this.index.get(meet)?.type === 'join') {
            this.add(meet, 'the branches of a switch meet at a join, which would wait for branches that never run', 'wire the branches straight into the next stage');
            return stages;
          }
          const branches = starts.map((start, i) => ({
            value: rules[i],
            otherwise: i >= route.values.length,
            stages: this.sequence(id, [start], meet, new Set(upstream), needsExit),
          }));
          for (const branch of branches) kindsOf(branch.stages).forEach((k) => upstream.add(k));
          stages.push({ type: 'switch', route, branches });
          from = id;
          next = meet ? [meet] : [];
          if (!meet) return stages;
          continue;
        }
      }
    }
  }

  private checkContract(component: Component, upstream: Set<Kind>): void {
    if (component.kind === 'retriever' && !upstream.has('embedding')) {
      this.add(component.id, 'a retriever searches by vector, but no embedding comes before it', 'put an opea-embedding in front of it');
    }
    if (component.kind === 'rerank' && !upstream.has('retriever')) {
      this.add(component.id, 'a reranker orders retrieved documents, but no retriever comes before it', 'put an opea-retriever in front of it');
    }
  }

  plan(): Plan {
    const side = this.graph.components.filter((c) => c.kind === 'dataprep');
    const plan: Plan = { stages: [], sideComponents: side };
    const routedComponents = this.graph.components.filter((c) => c.kind !== 'dataprep');
    if (routedComponents.length === 0) {
      this.problems.add('', this.graph.name || 'flow', 'the pipeline has no service stage besides dataprep', 'wire opea-embedding, opea-retriever, opea-rerank or opea-llm nodes from the entry');
    }
    if (this.findCycle()) return plan;

    const entries = this.graph.entries;
    for (const extra of entries.slice(1)) {
      this.add(extra.id, `a second entry: ${oneLine(entries[0].label, 40)} (${entries[0].id}) is one already`, 'a pipeline has one http in; put the other pipeline on its own tab');
    }
    let start: { origin: string; targets: string[]; needsExit: boolean };
    if (entries.length > 0) {
      plan.entry = entries[0];
      const targets = this.out(entries[0].id);
      if (targets.length === 0) this.add(entries[0].id, 'the http in is not wired', 'wire it to the first stage');
      if (this.graph.exits.length === 0) this.add(entries[0].id, 'the pipeline has an http in but no http response', 'wire the last stage to an http response node');
      start = { origin: entries[0].id, targets, needsExit: true };
    } else {
      const sources = this.routed().filter((id) => !this.pred.has(id) && this.index.get(id)?.type !== 'exit');
      for (const extra of sources.slice(1)) {
        this.add(extra, `a second entry: nothing is wired into it, nor into ${oneLine(labelOf(this.index.get(sources[0]), sources[0]), 40)}`, 'wire it from the stage before it, or add one http in as the entry');
      }
      if (sources.length === 0) return plan;
      start = { origin: '', targets: [sources[0]], needsExit: this.graph.exits.length > 0 };
    }
    plan.stages = this.sequence(start.origin, start.targets, null, new Set(), start.needsExit);

    for (const id of this.routed()) {
      const node = this.index.get(id);
      if (!node || this.placed.has(id) || node.type === 'entry' || node.type === 'exit') continue;
      if (node.type === 'join' && plan.stages.some((s) => hasJoin(s, id))) continue;
      this.add(id, 'it is not reached from the pipeline entry', 'wire it into the pipeline, or disable it');
    }
    return plan;
  }
}

function kindsOf(stages: Stage[]): Kind[] {
  return stages.flatMap((s) => (s.type === 'component' ? [s.component.kind] : s.type === 'switch' ? s.branches.flatMap((b) => kindsOf(b.stages)) : s.branches.flatMap(kindsOf)));
}

function hasJoin(stage: Stage, id: string): boolean {
  if (stage.type === 'ensemble') return stage.join.id === id || stage.branches.some((b) => b.some((s) => hasJoin(s, id)));
  if (stage.type === 'switch') return stage.branches.some((b) => b.stages.some((s) => hasJoin(s, id)));
  return false;
}

export function planPipeline(graph: PipelineGraph, problems: ProblemList): Plan {
  return new Planner(graph, problems).plan();
}

/** Every component of the plan, in routing order, then the side components. */
export function planComponents(plan: Plan): Component[] {
  const list: Component[] = [];
  const walk = (stages: Stage[]): void => {
    for (const stage of stages) {
      if (stage.type === 'component') list.push(stage.component);
      else if (stage.type === 'switch') stage.branches.forEach((b) => walk(b.stages));
      else stage.branches.forEach(walk);
    }
  };
  walk(plan.stages);
  return [...list, ...plan.sideComponents];
}
