/**
 * The Helm chart's manifests rendered with its default values, as plain Kubernetes objects: what
 * `helm template` prints for the chart (test/unit/helm-chart.test.ts holds the two equal), for a
 * cluster to apply without helm. No object names a namespace: the caller applies them to its own.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Pipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportHelmChart, ExportOptions } from '..';
import { renderedManifests } from '.';

/** ConfigMaps first, then each service's Deployment and Service; null with every problem added when the pipeline does not export. */
export function helmManifests(pipeline: Pipeline, options: ExportOptions, problems: ProblemList): KubernetesObject[] | null {
  const chart = exportHelmChart(pipeline, options, problems);
  return chart ? (renderedManifests(chart) as KubernetesObject[]) : null;
}
