/** Runs the export targets over a loaded pipeline and gathers one Bundle. */
import { Platform } from '../core/model';
import { Pipeline } from '../core/pipeline';
import { planComponents } from '../core/plan';
import { ProblemList } from '../core/problems';
import { Bundle } from './bundle';
import { ansibleBundle } from './ansible';
import { composeBundle } from './compose';
import { buildGmConnector, defaultCrName, gmcBundle } from './gmc';

export const TARGETS = ['gmc', 'compose', 'ansible'] as const;
export type Target = (typeof TARGETS)[number];

export interface ExportOptions {
  name?: string;
  namespace?: string;
  platform: Platform;
}

/** Bundle for the targets, or null with every problem added when the pipeline cannot be exported. */
export function exportPipeline(pipeline: Pipeline, targets: readonly Target[], options: ExportOptions, problems: ProblemList): Bundle | null {
  const name = options.name ?? defaultCrName(pipeline.graph.name) ?? '';
  if (name === '' && options.name === undefined) {
    problems.add('', pipeline.graph.name, 'the tab label has no Kubernetes form to name the export', 'pass --name');
    return null;
  }
  // Every target routes the same GMConnector: GMC applies it, compose runs it in GMC's router.
  const cr = buildGmConnector(pipeline.plan, pipeline.names, { name, namespace: options.namespace ?? name, platform: options.platform }, problems);
  if (!cr || !problems.empty) return null;
  const gmc = gmcBundle(cr);
  const compose = targets.includes('compose') || targets.includes('ansible') ? composeBundle(cr, planComponents(pipeline.plan), pipeline.names, options.platform) : undefined;
  const bundle: Bundle = {};
  if (targets.includes('gmc')) Object.assign(bundle, gmc);
  if (targets.includes('compose') && compose) Object.assign(bundle, compose.bundle);
  if (targets.includes('ansible') && compose) {
    const namespace = (cr.metadata as { namespace: string }).namespace;
    Object.assign(bundle, ansibleBundle({ name, namespace, platform: options.platform, files: { ...gmc, ...compose.bundle }, composeEnv: compose.env }));
  }
  return bundle;
}
