/**
 * The sidebar's live problem list: the checks of `opea-flow validate` (the importer, the planner, and
 * with a target that target's export rules) on one tab of the flow the editor holds.
 */
import { loadPipeline } from '../../core/pipeline';
import { nodeTypeSpec } from '../../core/node-types';
import { oneLine, Problem, ProblemList } from '../../core/problems';
import { exportPipeline, Target, TARGETS } from '../../exporters';
import { plainFlow } from '../../nodes/opea-exporter/export-job';

export interface TabCheck {
  /** false: the tab holds no opea- stage, so there is nothing to check. */
  pipeline: boolean;
  problems: Problem[];
  warnings: Problem[];
  /** One line on what was checked, e.g. "ChatQnA: 4 components, exportable to gmc". */
  summary: string;
}

/** The target choice of the sidebar: '' (the pipeline only), one target, or 'all', as `validate --target`. */
export function targetsOf(value: unknown): readonly Target[] | null {
  if (value === undefined || value === '') return [];
  if (value === 'all') return TARGETS;
  return (TARGETS as readonly unknown[]).includes(value) ? [value as Target] : null;
}

export function checkTab(flow: readonly unknown[], tab: string, targets: readonly Target[]): TabCheck {
  const nodes = plainFlow(flow);
  if (!nodes.some((n) => n.z === tab && nodeTypeSpec(n.type))) {
    return { pipeline: false, problems: [], warnings: [], summary: 'this tab holds no OPEA stage' };
  }
  const { pipeline, problems } = loadPipeline(nodes, { tab });
  const checked: ProblemList = problems;
  if (checked.empty) exportPipeline(pipeline, targets, { platform: 'xeon' }, checked);
  const count = pipeline.graph.components.length;
  const what = `${oneLine(pipeline.graph.name, 60)}: ${count} component${count === 1 ? '' : 's'}`;
  const summary = checked.empty ? `${what}, valid${targets.length ? `, exportable to ${targets.join(', ')}` : ''}` : `${what}, ${checked.items.length} problem${checked.items.length === 1 ? '' : 's'}`;
  return { pipeline: true, problems: checked.items, warnings: checked.warnings, summary };
}
