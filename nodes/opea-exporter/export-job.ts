/**
 * What the opea-exporter node does, without Node-RED: read its settings (with the problems a user
 * can act on), and export the pipeline of its tab from flow JSON to one Bundle with the same
 * importer and exporters the command line uses. The editor's button and input messages both end here.
 */
import path from 'node:path';
import { isHttpUrl, URL_CREDENTIAL_FIX, urlCredential } from '../../core/flow-json';
import { PLATFORMS, Platform } from '../../core/model';
import { isDnsLabel } from '../../core/names';
import { nodeTypeSpec } from '../../core/node-types';
import { loadPipeline } from '../../core/pipeline';
import { oneLine, Problem, ProblemList } from '../../core/problems';
import { Bundle } from '../../exporters/bundle';
import { exportFolderProblem, exportSubfolder } from '../../exporters/confined-path';
import { exportPipeline, GMC_FLAVORS, GmcFlavor, Target, TARGETS } from '../../exporters';
import { defaultCrName } from '../../exporters/gmc';
import { METRICS_STORES, MetricsStore } from '../../exporters/compose/observability';
import { labelOf } from '../shared/service-node';

export const EXPORTER_TYPE = 'opea-exporter';
/** The config version this release writes and reads. */
export const EXPORTER_CONFIG_VERSION = 1;

export interface ExternalUrl {
  /** id of an opea- service node of the pipeline */
  node: string;
  url: string;
}

export interface ExporterSettings {
  targets: Target[];
  /** GMConnector / project name; undefined: the tab label in Kubernetes form. */
  name?: string;
  /** undefined: the name. */
  namespace?: string;
  platform: Platform;
  gmcFlavor: GmcFlavor;
  /** The observability profile's metrics store (compose, Ansible) and GMC's monitoring files; undefined: none. */
  observability?: MetricsStore;
  /** Per-export values of stage nodes' externalUrl (the URL GMC calls for a stage it cannot deploy). */
  externalUrls: ExternalUrl[];
  /**
   * Where the bundle goes, each independently (a later delivery, such as applying to a cluster,
   * is one more of these): a zip the browser downloads (the button only), a folder under the user
   * directory.
   */
  download: boolean;
  toFolder: boolean;
  /**
   * The folder under `<user directory>/opea-exports/` ('/'-separated); '': the export's name. A
   * folder saved as `opea-exports/x` is read as `x` (the same place).
   */
  folder: string;
  /** Apply the GMConnector to a Kubernetes cluster where GMC runs (the deployed node does it). */
  apply: ApplySettings | null;
}

export interface ApplySettings {
  /** kubeconfig file; '': KUBECONFIG, ~/.kube/config, else in-cluster. */
  kubeconfig: string;
  /** '': the kubeconfig's current context. */
  context: string;
  dryRun: boolean;
  /** Seconds to wait for GMC to report every deployment ready; 0: not at all. */
  waitS: number;
}

const MAX_WAIT_S = 86_400;

type RawNode = Record<string, unknown> & { id: string; type: string };

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');


/** Reads an opea-exporter node's config; every problem names the node. */
export function readExporterSettings(config: RawNode): { settings: ExporterSettings; problems: Problem[] } {
  const problems = new ProblemList();
  const label = labelOf(config);
  const fail = (message: string, fix: string) => problems.add(config.id, label, message, fix);

  if (typeof config.configVersion === 'number' && config.configVersion > EXPORTER_CONFIG_VERSION) {
    fail(`it was saved by a newer node-red-contrib-opea (config version ${config.configVersion})`, 'upgrade node-red-contrib-opea');
  }
  const rawTargets = Array.isArray(config.targets) ? config.targets : typeof config.targets === 'string' ? config.targets.split(',') : [];
  const targets: Target[] = [];
  for (const t of rawTargets.map((v) => String(v).trim()).filter((v) => v !== '')) {
    if (!(TARGETS as readonly string[]).includes(t)) fail(`unknown export target '${oneLine(t, 20)}'`, `choose among ${TARGETS.join(', ')}`);
    else if (!targets.includes(t as Target)) targets.push(t as Target);
  }
  if (rawTargets.length === 0) fail('no export target is chosen', 'tick GMC, docker compose and/or Ansible');

  const name = text(config.exportName);
  if (name !== '' && !isDnsLabel(name)) fail(`the export name '${oneLine(name, 70)}' is not a Kubernetes name`, 'use lowercase letters, digits and dashes, a letter first (at most 63), or leave it empty for the tab label');
  const namespace = text(config.namespace);
  if (namespace !== '' && !isDnsLabel(namespace)) fail(`the namespace '${oneLine(namespace, 70)}' is not a Kubernetes name`, 'use lowercase letters, digits and dashes, a letter first (at most 63), or leave it empty for the export name');

  const platform = config.platform === undefined || config.platform === '' ? 'xeon' : String(config.platform);
  if (!(PLATFORMS as readonly string[]).includes(platform)) fail(`unknown platform '${oneLine(platform, 20)}'`, `choose ${PLATFORMS.join(', ')}`);
  const gmcFlavor = config.gmcFlavor === undefined || config.gmcFlavor === '' ? 'upstream' : String(config.gmcFlavor);
  if (!(GMC_FLAVORS as readonly string[]).includes(gmcFlavor)) fail(`unknown GMC flavour '${oneLine(gmcFlavor, 20)}'`, `choose ${GMC_FLAVORS.join(', ')}`);
  const observability = text(config.observability);
  if (observability !== '' && !(METRICS_STORES as readonly string[]).includes(observability)) fail(`unknown observability store '${oneLine(observability, 20)}'`, `choose none, ${METRICS_STORES.join(', ')}`);

  const externalUrls: ExternalUrl[] = [];
  const rawUrls = config.externalUrls === undefined || config.externalUrls === '' ? [] : config.externalUrls;
  if (!Array.isArray(rawUrls)) {
    fail('its external URLs are not a list', 'open the node and set the external URLs again');
  } else {
    rawUrls.forEach((entry, i) => {
      const e = entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
      const node = text(e.node);
      const url = text(e.url);
      const at = `external URL ${i + 1}`;
      if (node === '') fail(`${at} names no stage`, 'choose the stage it is for, or remove the row');
      else if (externalUrls.some((u) => u.node === node)) fail(`${at} repeats the stage ${oneLine(node, 40)}`, 'keep one URL per stage');
      if (!isHttpUrl(url)) fail(`${at} '${oneLine(url, 80)}' is not an http(s) URL`, 'give e.g. http://llm.example.svc:9000/v1/chat/completions');
      else if (urlCredential(url)) fail(`${at} carries ${urlCredential(url)}, which an export would write out`, URL_CREDENTIAL_FIX);
      if (node !== '' && isHttpUrl(url)) externalUrls.push({ node, url });
    });
  }

  const flag = (key: string, dflt: boolean): boolean => {
    const v = config[key];
    if (v === undefined || v === '') return dflt;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    fail(`${key} must be true or false`, `open the node and tick or untick it`);
    return dflt;
  };
  const download = flag('download', true);
  const toFolder = flag('toFolder', false);
  const folder = exportSubfolder(text(config.folder));
  if (toFolder) {
    const problem = exportFolderProblem(folder);
    if (problem) fail(problem.message, problem.fix);
  }

  let apply: ApplySettings | null = null;
  if (flag('apply', false)) {
    const wait = config.wait === undefined || config.wait === '' ? 600 : Number(config.wait);
    if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_S) fail(`the wait '${oneLine(String(config.wait), 20)}' is not a whole number of seconds from 0 to ${MAX_WAIT_S}`, 'give the seconds to wait for GMC to report the pipeline ready (0: do not wait)');
    if (!targets.includes('gmc')) fail('applying sends the GMConnector, but GMC is not among the targets', 'tick GMC, or untick Apply');
    apply = { kubeconfig: text(config.kubeconfig), context: text(config.context), dryRun: flag('dryRun', false), waitS: wait };
  }

  const settings: ExporterSettings = {
    targets,
    name: name === '' ? undefined : name,
    namespace: namespace === '' ? undefined : namespace,
    platform: platform as Platform,
    gmcFlavor: gmcFlavor as GmcFlavor,
    ...(observability === '' ? {} : { observability: observability as MetricsStore }),
    externalUrls,
    download,
    toFolder,
    folder,
    apply,
  };
  return { settings, problems: problems.items };
}

export interface ExportResult {
  /** The exported bundle, or null when there are problems. */
  bundle: Bundle | null;
  /** The export's name (GMConnector name, zip file name); '' when it has none. */
  name: string;
  settings?: ExporterSettings;
  /** When the settings write a folder: the folder under `opea-exports/`, the settings' folder or else the name. */
  folder?: string;
  problems: Problem[];
  /** Where the deployed pipeline will behave differently from the flow (see exportPipeline). */
  warnings?: Problem[];
}

/** Node-RED flow JSON as the importer takes it: node objects only, and no credentials on any. */
export function plainFlow(flow: readonly unknown[]): RawNode[] {
  return flow
    .filter((n): n is RawNode => !!n && typeof n === 'object' && typeof (n as RawNode).id === 'string' && typeof (n as RawNode).type === 'string')
    .map((n) => {
      const { credentials: _dropped, ...rest } = n;
      void _dropped;
      return rest as RawNode;
    });
}

/**
 * Exports the pipeline of the tab the exporter node `exporterId` sits on, from `flow` (the editor's
 * node set or the deployed flows), with that node's settings. Nothing is written here.
 */
export function exportFromFlow(flow: readonly unknown[], exporterId: string): ExportResult {
  const nodes = plainFlow(flow);
  const exporter = nodes.find((n) => n.id === exporterId);
  if (!exporter || exporter.type !== EXPORTER_TYPE) {
    const message = exporter ? `node ${oneLine(exporterId, 40)} is a '${oneLine(exporter.type, 40)}', not an ${EXPORTER_TYPE}` : `node ${oneLine(exporterId, 40)} is not in the flow`;
    return { bundle: null, name: '', problems: [{ nodeId: exporterId, label: exporter ? labelOf(exporter) : exporterId, message, fix: 'export from an opea-exporter node of the flow' }] };
  }
  const label = labelOf(exporter);
  const { settings, problems: settingProblems } = readExporterSettings(exporter);
  if (settingProblems.length > 0) return { bundle: null, name: '', settings, problems: settingProblems };

  const problems = new ProblemList();
  const byId = new Map(nodes.map((n, i) => [n.id, i]));
  for (const { node, url } of settings.externalUrls) {
    const index = byId.get(node);
    const target = index === undefined ? undefined : nodes[index];
    if (!target || !nodeTypeSpec(target.type)) {
      problems.add(exporter.id, label, target ? `an external URL is set for ${labelOf(target)} (${node}), which is not an opea- stage` : `an external URL is set for node ${oneLine(node, 40)}, which is not in the flow`, 'remove that row or choose the stage again');
    } else {
      nodes[index as number] = { ...target, externalUrl: url };
    }
  }
  if (!problems.empty) return { bundle: null, name: '', settings, problems: problems.items };

  const tab = typeof exporter.z === 'string' ? exporter.z : '';
  const tabNode = nodes.find((n) => n.id === tab);
  const tabLabel = tabNode && typeof tabNode.label === 'string' ? tabNode.label : tab;
  const loaded = loadPipeline(nodes, { tab });
  if (!loaded.problems.empty) {
    // The importer speaks of a tab chosen by --tab; here the tab is the one the exporter sits on.
    const items = loaded.problems.items.map((p) =>
      p.nodeId === '' && p.label === tab && /no tab with this id or label/.test(p.message)
        ? { nodeId: exporter.id, label, message: `its tab '${oneLine(tabLabel, 60)}' holds no opea- pipeline (a pipeline belongs to the tab of its http in node, else of its first stage)`, fix: `move this node to the pipeline's tab${/choose one of/.test(p.fix) ? ` (${p.fix.replace(/^choose one of /, 'one of ')})` : ''}` }
        : p,
    );
    return { bundle: null, name: '', settings, problems: items };
  }
  const name = settings.name ?? defaultCrName(loaded.pipeline.graph.name);
  if (!name) {
    problems.add(exporter.id, label, `the tab label '${oneLine(tabLabel, 60)}' has no Kubernetes form to name the export`, 'set the export name (lowercase letters, digits and dashes)');
    return { bundle: null, name: '', settings, problems: problems.items };
  }
  const bundle = exportPipeline(loaded.pipeline, settings.targets, { name, namespace: settings.namespace, platform: settings.platform, gmcFlavor: settings.gmcFlavor, observability: settings.observability }, problems);
  if (!bundle || !problems.empty) return { bundle: null, name, settings, problems: problems.items };
  const folder = settings.toFolder ? settings.folder || name : undefined;
  return { bundle, name, settings, folder, problems: [], warnings: problems.warnings };
}

/**
 * The flows file and credentials file of this runtime, relative to the user directory ('/'-separated),
 * as Node-RED's file storage names them: `flowFile` (default flows.json) and `<its base>_cred<its extension>`.
 */
export function nodeRedFiles(settings: { userDir?: string; flowFile?: unknown }): string[] {
  const userDir = settings.userDir ?? '';
  const flowFile = typeof settings.flowFile === 'string' && settings.flowFile !== '' ? settings.flowFile : 'flows.json';
  const full = path.resolve(userDir, flowFile);
  const ext = path.extname(full);
  const files = [full, path.join(userDir, `${path.basename(full, ext)}_cred${ext}`)];
  return files.map((f) => path.relative(userDir, f)).filter((r) => r !== '' && !r.startsWith('..') && !path.isAbsolute(r)).map((r) => r.split(path.sep).join('/'));
}
