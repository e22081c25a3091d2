/** From flow JSON to a checked pipeline: import, plan, names. The single entry point exporters use. */
import { importNodeRedFlow, ImportOptions } from './flow-json';
import { PipelineGraph } from './model';
import { Plan, planComponents, planPipeline } from './plan';
import { ProblemList } from './problems';
import { serviceBaseNames } from './service-names';

export interface Pipeline {
  graph: PipelineGraph;
  plan: Plan;
  /** component id -> Kubernetes base name */
  names: Map<string, string>;
}

/** Imports and checks a flow. Every problem found is in `problems`; the pipeline is usable only when it is empty. */
export function loadPipeline(flow: unknown, options: ImportOptions = {}): { pipeline: Pipeline; problems: ProblemList } {
  const { graph, problems } = importNodeRedFlow(flow, options);
  const plan = graph.name === '' && graph.components.length === 0 ? { stages: [], sideComponents: [] } : planPipeline(graph, problems);
  const names = serviceBaseNames(planComponents(plan), problems);
  return { pipeline: { graph, plan, names }, problems };
}
