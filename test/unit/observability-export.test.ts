import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { METRICS_OF, OBSERVABILITY, service, SERVICES } from '../../core/catalog';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, Target } from '../../exporters';
import { Bundle } from '../../exporters/bundle';
import { checkComposeProject } from '../../exporters/compose/check';
import { MetricsStore } from '../../exporters/compose/observability';
import { pipelineDashboard } from '../../exporters/compose/observability-dashboard';
import { dashboardSchemaErrors } from '../support/grafana-dashboard-check';
import { closeServer, listenLoopback } from '../support/loopback';
import { MetricsModelServer } from '../support/metrics-model-server';
import { prometheusInstalled, promtoolCheckConfig, startPrometheus } from '../support/prometheus-process';
import { lint, requireAnsible, syntaxCheck } from '../support/ansible/helpers';
import { loadAnsibleYaml } from '../../exporters/ansible/yaml';
import { writeBundle } from '../../exporters/bundle';
import { exampleFlow } from '../support/reference';
import { EXPORTER_TYPE, exportFromFlow, readExporterSettings } from '../../nodes/opea-exporter/export-job';
import { runCli } from '../support/run-cli';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FLOWS = ['chatqna.json', 'chatqna-switch.json', 'chatqna-guardrails.json', 'retriever-ensemble.json', 'export-all-targets.json'];
const STORES: MetricsStore[] = ['prometheus', 'victoriametrics'];
const PROFILE_SERVICES = ['otel-collector', 'prometheus', 'victoriametrics', 'grafana'];
const TELEMETRY_ENV = ['TELEMETRY_ENDPOINT', 'OTLP_ENDPOINT', 'OTLP_SERVICE_NAME'];

function exportFlow(file: string, targets: Target[], observability?: MetricsStore): Bundle {
  const { pipeline, problems } = loadPipeline(exampleFlow(file));
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, targets, { platform: 'xeon', observability }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  assert.ok(bundle);
  return bundle;
}

const composeOf = (bundle: Bundle): Json => yaml.load(bundle['compose/compose.yaml']) as Json;
const yamlFile = (bundle: Bundle, file: string): Json => yaml.load(bundle[file]) as Json;
const dashboardOf = (bundle: Bundle, file = 'compose/observability/grafana/dashboards/pipeline.json'): Json => JSON.parse(bundle[file]) as Json;
const exprsOf = (dashboard: Json): string[] => dashboard.panels.flatMap((p: Json) => (p.targets ?? []).map((t: Json) => t.expr as string));

function tempDir(t: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `opea-${t}-`));
}

/** The port a service of the compose project listens on inside it, from the catalog. */
function containerPort(serviceId: string): number {
  const def = service(serviceId);
  return def.chain?.port ?? def.port;
}

describe('export --observability', function () {
  this.timeout(120_000);

  describe('without it', () => {
    for (const file of FLOWS) {
      it(`${file}: no profile, no telemetry setting, no observability or monitoring file`, () => {
        const bundle = exportFlow(file, ['gmc', 'compose', 'ansible']);
        assert.deepEqual(Object.keys(bundle).filter((f) => /observability|monitoring/.test(f)), []);
        const text = Object.values(bundle).join('\n');
        for (const word of ['profiles', 'otel-collector', 'compose_app_profiles', ...TELEMETRY_ENV]) assert.ok(!text.includes(word), word);
      });
    }
  });

  describe('compose', () => {
    for (const file of FLOWS) {
      for (const store of STORES) {
        it(`${file}, ${store}: only adds to the project exported without it, and the project passes compose-spec`, () => {
          const plain = composeOf(exportFlow(file, ['compose']));
          const bundle = exportFlow(file, ['compose'], store);
          const observed = composeOf(bundle);
          assert.deepEqual(checkComposeProject(observed), []);
          const profile = Object.keys(observed.services).filter((s) => observed.services[s].profiles);
          assert.deepEqual(profile.sort(), ['grafana', 'otel-collector', store].sort());
          for (const s of profile) {
            assert.deepEqual(observed.services[s].profiles, [OBSERVABILITY.profile]);
            for (const p of observed.services[s].ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${s} publishes ${p} beyond loopback`);
            for (const v of observed.services[s].volumes ?? []) {
              const source = String(v).split(':')[0];
              if (!source.startsWith('./')) continue;
              const rel = `compose/${source.slice(2)}`;
              assert.ok(bundle[rel] !== undefined || Object.keys(bundle).some((f) => f.startsWith(`${rel}/`)), `${s} mounts ${source}, which the bundle lacks`);
            }
          }
          // Compose refuses a service that needs one of a profile that is not started.
          for (const [name, s] of Object.entries<Json>(observed.services)) {
            if (s.profiles) continue;
            for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(!profile.includes(dep), `${name} depends on ${dep}`);
          }
          // Take the additions away: what is left is the project exported without the option.
          const stripped = structuredClone(observed);
          for (const s of profile) delete stripped.services[s];
          delete stripped.volumes;
          for (const s of Object.values<Json>(stripped.services)) {
            for (const key of TELEMETRY_ENV) delete s.environment?.[key];
            if (typeof s.environment?.no_proxy === 'string') s.environment.no_proxy = s.environment.no_proxy.replace(/^otel-collector, /, '');
          }
          assert.equal(yaml.dump(stripped), yaml.dump(plain));
        });
      }
    }

    it('points every OPEA microservice at the collector over OTLP/HTTP, and TEI and TGI over OTLP/gRPC', () => {
      const bundle = exportFlow('chatqna-guardrails.json', ['compose'], 'prometheus');
      const services = composeOf(bundle).services as Record<string, Json>;
      const collector = yamlFile(bundle, 'compose/observability/otel-collector.yaml');
      const otlp = collector.receivers.otlp.protocols;
      const port = (endpoint: string) => Number(endpoint.split(':').pop());
      let opea = 0;
      let servers = 0;
      for (const [name, s] of Object.entries(services)) {
        const image = String(s.image);
        const env = s.environment ?? {};
        if (/\/(embedding-tei|retriever-redis|reranking-tei|llm-tgi|dataprep-redis|guardrails-tgi):/.test(image)) {
          opea++;
          assert.equal(env.TELEMETRY_ENDPOINT, `http://otel-collector:${port(otlp.http.endpoint)}/v1/traces`, name);
          assert.match(env.no_proxy, /^otel-collector, /);
        } else if (/text-embeddings-inference|text-generation-inference/.test(image)) {
          servers++;
          assert.equal(env.OTLP_ENDPOINT, `http://otel-collector:${port(otlp.grpc.endpoint)}`, name);
          assert.equal(env.OTLP_SERVICE_NAME, name);
        } else {
          for (const key of TELEMETRY_ENV) assert.equal(env[key], undefined, `${name} has ${key}`);
        }
      }
      assert.ok(opea >= 5 && servers >= 4, `${opea} OPEA services, ${servers} model servers`);
    });

    it('the collector config is whole (checked structurally: no otelcol binary here) and the collector loads it', () => {
      const bundle = exportFlow('chatqna.json', ['compose'], 'prometheus');
      const config = yamlFile(bundle, 'compose/observability/otel-collector.yaml');
      const declared = (kind: string) => Object.keys(config[kind] ?? {});
      const pipelines = config.service.pipelines as Record<string, Json>;
      const connectors = declared('connectors');
      for (const [name, p] of Object.entries(pipelines)) {
        for (const r of p.receivers) assert.ok(declared('receivers').includes(r) || connectors.includes(r), `${name}: receiver ${r}`);
        for (const r of p.processors ?? []) assert.ok(declared('processors').includes(r), `${name}: processor ${r}`);
        for (const e of p.exporters) assert.ok(declared('exporters').includes(e) || connectors.includes(e), `${name}: exporter ${e}`);
        assert.ok(p.receivers.length > 0 && p.exporters.length > 0);
      }
      // A connector joins two pipelines: an exporter of one, a receiver of another.
      for (const c of connectors) {
        assert.ok(Object.values(pipelines).some((p) => p.exporters.includes(c)) && Object.values(pipelines).some((p) => p.receivers.includes(c)), c);
      }
      for (const kind of ['receivers', 'processors', 'exporters', 'connectors']) {
        for (const name of declared(kind)) assert.ok(Object.values(pipelines).some((p) => [...p.receivers, ...(p.processors ?? []), ...p.exporters].includes(name)), `${kind} ${name} is in no pipeline`);
      }
      const scrape = yamlFile(bundle, 'compose/observability/prometheus.yml');
      const job = scrape.scrape_configs.find((j: Json) => j.job_name === 'otel-collector');
      assert.deepEqual(job.static_configs[0].targets, [`otel-collector:${config.exporters.prometheus.endpoint.split(':')[1]}`]);
      const service = composeOf(bundle).services['otel-collector'];
      const configPath = String(service.command[0]).replace('--config=', '');
      assert.ok(service.volumes.includes(`./observability/otel-collector.yaml:${configPath}:ro`));
    });

    for (const store of STORES) {
      it(`${store}: the scrape config passes promtool check config, with one job per service that serves /metrics`, function () {
        if (!prometheusInstalled()) this.skip();
        const bundle = exportFlow('export-all-targets.json', ['compose'], store);
        const dir = tempDir('promtool');
        try {
          const file = path.join(dir, 'prometheus.yml');
          fs.writeFileSync(file, bundle['compose/observability/prometheus.yml']);
          const checked = promtoolCheckConfig(file);
          assert.equal(checked.status, 0, checked.output);
          assert.match(checked.output, /SUCCESS/);
          // The check can fail: the same file with a job named twice does not pass.
          const config = yaml.load(bundle['compose/observability/prometheus.yml']) as Json;
          config.scrape_configs.push(config.scrape_configs[0]);
          fs.writeFileSync(file, yaml.dump(config));
          const refused = promtoolCheckConfig(file);
          assert.notEqual(refused.status, 0);
          assert.match(refused.output, /found multiple scrape configs with job name/);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
        const project = composeOf(bundle);
        const scrape = yamlFile(bundle, 'compose/observability/prometheus.yml');
        const expected = Object.entries<Json>(project.services)
          .filter(([name]) => !PROFILE_SERVICES.includes(name))
          .flatMap(([name, s]) => {
            const id = Object.values(SERVICES).find((def) => [def.chain?.image, ...Object.values(def.images)].some((i) => i && String(s.image).includes(`${i.repository.replace(/^opea\//, '')}:`)))?.id;
            return id && METRICS_OF[id] ? [`${name}:${containerPort(id)}`] : [];
          });
        const scraped = scrape.scrape_configs.filter((j: Json) => j.job_name !== 'otel-collector').map((j: Json) => `${j.job_name}:${j.static_configs[0].targets[0].split(':')[1]}`);
        assert.deepEqual(scraped, expected);
        assert.ok(!scraped.some((s: string) => /^(router-service|gateway|redis)/.test(s)));
        const storeService = project.services[store];
        const mounted = storeService.volumes.find((v: string) => v.startsWith('./observability/prometheus.yml:')).split(':')[1];
        assert.ok(storeService.command.some((c: string) => c.endsWith(`=${mounted}`)), JSON.stringify(storeService.command));
      });
    }

    it('Grafana: the datasource, the dashboard folder and the home dashboard are the files the bundle mounts', () => {
      const bundle = exportFlow('chatqna.json', ['compose'], 'victoriametrics');
      const grafana = composeOf(bundle).services.grafana;
      const mounts = Object.fromEntries(grafana.volumes.map((v: string) => v.split(':')).filter((p: string[]) => p[0].startsWith('./')).map((p: string[]) => [p[1], `compose/${p[0].slice(2)}`]));
      const datasources = yamlFile(bundle, 'compose/observability/grafana/provisioning/datasources/opea.yaml');
      assert.equal(datasources.datasources[0].url, `http://victoriametrics:${OBSERVABILITY.victoriametrics.port}`);
      const providers = yamlFile(bundle, 'compose/observability/grafana/provisioning/dashboards/opea.yaml');
      const folder = mounts[providers.providers[0].options.path];
      assert.ok(bundle[`${folder}/pipeline.json`]);
      assert.equal(mounts['/etc/grafana/provisioning'], 'compose/observability/grafana/provisioning');
      const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
      assert.ok(bundle[`${mounts[path.posix.dirname(home)]}/${path.posix.basename(home)}`]);
      const dashboard = dashboardOf(bundle);
      const uids = new Set(dashboard.panels.flatMap((p: Json) => [p.datasource?.uid, ...(p.targets ?? []).map((t: Json) => t.datasource.uid)]).filter(Boolean));
      assert.deepEqual([...uids], [datasources.datasources[0].uid]);
    });

    it("the dashboard passes @grafana/schema's Dashboard type, and that check fails on a broken one", () => {
      const dashboard = dashboardOf(exportFlow('chatqna-guardrails.json', ['compose'], 'prometheus'));
      assert.deepEqual(dashboardSchemaErrors(dashboard), []);
      const broken = structuredClone(dashboard);
      delete broken.panels[1].type;
      broken.panels[2].gridPos.w = '12';
      const errors = dashboardSchemaErrors(broken);
      assert.equal(errors.length, 2, errors.join('\n'));
      assert.match(errors.join('\n'), /Property 'type' is missing/);
    });

    it('the dashboard names every scraped service, and only those; its panels answer requests, errors, latency, TTFT, tokens/s, queue and batch', () => {
      const bundle = exportFlow('export-all-targets.json', ['compose'], 'prometheus');
      const jobs = yamlFile(bundle, 'compose/observability/prometheus.yml').scrape_configs.map((j: Json) => j.job_name).filter((j: string) => j !== 'otel-collector');
      const dashboard = dashboardOf(bundle);
      const named = new Set(exprsOf(dashboard).flatMap((e) => [...e.matchAll(/job="([^"]+)"/g)].map((m) => m[1])));
      assert.deepEqual([...named].sort(), [...jobs].sort());
      const titles = dashboard.panels.filter((p: Json) => p.type === 'timeseries').map((p: Json) => p.title);
      assert.deepEqual(titles, ['Requests per second', 'Errors per second', 'Latency p50', 'Latency p95', 'Latency p99', 'Time to first token', 'Generated tokens per second', 'Queue size', 'Batch size', 'Spans per second', 'Span duration p95']);
      const requests = dashboard.panels.find((p: Json) => p.title === 'Requests per second');
      assert.deepEqual(requests.targets.map((t: Json) => t.legendFormat), jobs);
    });

    it("a real Prometheus scraping TGI-, TEI-, vLLM- and OPEA-shaped /metrics answers every panel's query, with data after traffic", async function () {
      if (!prometheusInstalled()) this.skip();
      const bundle = exportFlow('chatqna.json', ['compose'], 'prometheus');
      const config = yamlFile(bundle, 'compose/observability/prometheus.yml');
      const tgi = await MetricsModelServer.start({ kind: 'tgi', batchSize: 2, tokens: 4, tokenDelayMs: 1 });
      const tei = await MetricsModelServer.start({ kind: 'tei', batchSize: 2, tokens: 1, tokenDelayMs: 1 });
      // No export deploys vLLM: its panels are checked on a dashboard made for a vLLM job.
      const vllm = await MetricsModelServer.start({ kind: 'vllm', batchSize: 2, tokens: 4, tokenDelayMs: 1 });
      const vllmDashboard = pipelineDashboard('vllm', [{ job: 'llm-vllm', family: 'vllm' }], false);
      // prometheus_fastapi_instrumentator's defaults, as OPEA 1.1 services expose them (GenAIComps v1.1
      // comps/cores/mega/http_service.py l.38): http_requests_total{handler,method,status} with status
      // grouped as "2xx", http_request_duration_seconds{handler,method}.
      let served = 0;
      const opea = http.createServer((_req, res) => {
        served++;
        const n = served;
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end([
          '# TYPE http_requests_total counter',
          `http_requests_total{handler="/v1/embeddings",method="POST",status="2xx"} ${n}`,
          `http_requests_total{handler="/v1/embeddings",method="POST",status="5xx"} ${Math.floor(n / 3)}`,
          `http_requests_total{handler="/metrics",method="GET",status="2xx"} ${n}`,
          '# TYPE http_request_duration_seconds histogram',
          `http_request_duration_seconds_bucket{handler="/v1/embeddings",le="0.1",method="POST"} ${n}`,
          `http_request_duration_seconds_bucket{handler="/v1/embeddings",le="+Inf",method="POST"} ${n}`,
          `http_request_duration_seconds_sum{handler="/v1/embeddings",method="POST"} ${n * 0.05}`,
          `http_request_duration_seconds_count{handler="/v1/embeddings",method="POST"} ${n}`,
          '',
        ].join('\n'));
      });
      const opeaUrl = await listenLoopback(opea);
      const hostOf = (url: string) => new URL(url).host;
      // The generated jobs, their targets moved to the loopback servers of their kind, scraped every second.
      config.global.scrape_interval = '1s';
      for (const job of config.scrape_configs) {
        const target = job.job_name.endsWith('-tgi') ? tgi.url : job.job_name.endsWith('-tei') ? tei.url : job.job_name === 'otel-collector' ? 'http://127.0.0.1:9' : opeaUrl;
        job.static_configs[0].targets = [hostOf(target)];
      }
      config.scrape_configs.push({ job_name: 'llm-vllm', static_configs: [{ targets: [hostOf(vllm.url)] }] });
      const prometheus = await startPrometheus(yaml.dump(config));
      const traffic = setInterval(() => {
        void fetch(`${tgi.url}/v1/chat/completions`, { method: 'POST', body: '{}' }).then((r) => r.text(), () => undefined);
        void fetch(`${tei.url}/embed`, { method: 'POST', body: '{}' }).then((r) => r.text(), () => undefined);
        void fetch(`${vllm.url}/v1/chat/completions`, { method: 'POST', body: '{}' }).then((r) => r.text(), () => undefined);
      }, 100);
      try {
        const dashboard = dashboardOf(bundle);
        const rated = (e: string) => e.replaceAll('$__rate_interval', '10s');
        const withData = async (expr: string) => (await prometheus.query(rated(expr))).data?.result.length ?? 0;
        const requests = dashboard.panels.find((p: Json) => p.title === 'Requests per second').targets.map((t: Json) => t.expr as string);
        const panel = (d: Json, title: string) => d.panels.find((p: Json) => p.title === title).targets[0].expr as string;
        const wanted = [...requests, panel(dashboard, 'Generated tokens per second'), panel(dashboard, 'Time to first token'), ...['Requests per second', 'Latency p95', 'Time to first token', 'Generated tokens per second'].map((t) => panel(vllmDashboard, t))];
        const deadline = Date.now() + 60_000;
        for (;;) {
          const counts = await Promise.all(wanted.map(withData));
          if (counts.every((c) => c > 0)) break;
          assert.ok(Date.now() < deadline, `no data within 60 s for: ${wanted.filter((_, i) => counts[i] === 0).join(' | ')}`);
          await new Promise((r) => setTimeout(r, 500));
        }
        for (const expr of [...exprsOf(dashboard), ...exprsOf(vllmDashboard)]) {
          const answer = await prometheus.query(rated(expr));
          assert.equal(answer.status, 'success', `${expr}: ${answer.error}`);
        }
        const broken = await prometheus.query('sum(rate(tgi_request_count[10s])');
        assert.equal(broken.status, 'error');
      } finally {
        clearInterval(traffic);
        await prometheus.stop();
        await Promise.all([tgi.close(), tei.close(), vllm.close(), closeServer(opea)]);
      }
    });
  });

  describe('Ansible', () => {
    const ansibleOf = (bundle: Bundle, rel: string) => loadAnsibleYaml(bundle[`ansible/${rel}`]) as Json;

    it('starts the profile with the pipeline: compose_app_profiles, passed to docker_compose_v2 and checked by the preflight', () => {
      const bundle = exportFlow('chatqna.json', ['gmc', 'compose', 'ansible'], 'prometheus');
      assert.deepEqual(ansibleOf(bundle, 'roles/compose_app/vars/main.yml').compose_app_profiles.map((p: { value: string }) => p.value), [OBSERVABILITY.profile]);
      const up = ansibleOf(bundle, 'roles/compose_app/tasks/up.yml')[0]['community.docker.docker_compose_v2'];
      assert.equal(String(up.profiles), '{{ compose_app_profiles }}');
      const preflight = ansibleOf(bundle, 'roles/compose_app/tasks/preflight.yml');
      const options = preflight.find((t: Json) => t.vars?.compose_app_compose_options).vars.compose_app_compose_options;
      assert.deepEqual(options, Object.keys(up));
      for (const f of Object.keys(bundle).filter((f) => f.startsWith('compose/observability/'))) {
        assert.equal(bundle[`ansible/roles/compose_app/files/${f.slice('compose/'.length)}`], bundle[f], f);
      }
      assert.match(bundle['ansible/README.md'], /It starts the compose profile `observability` too/);
      const plain = exportFlow('chatqna.json', ['gmc', 'compose', 'ansible']);
      assert.equal(ansibleOf(plain, 'roles/compose_app/vars/main.yml').compose_app_profiles, undefined);
      assert.equal(ansibleOf(plain, 'roles/compose_app/tasks/up.yml')[0]['community.docker.docker_compose_v2'].profiles, undefined);
    });

    it('passes ansible-playbook --syntax-check and ansible-lint --offline --strict', function () {
      requireAnsible(this);
      const dir = tempDir('observability-ansible');
      try {
        writeBundle(dir, Object.fromEntries(Object.entries(exportFlow('chatqna-guardrails.json', ['gmc', 'compose', 'ansible'], 'victoriametrics')).filter(([f]) => f.startsWith('ansible/'))));
        const cwd = path.join(dir, 'ansible');
        const syntax = syntaxCheck(cwd);
        assert.equal(syntax.status, 0, syntax.output);
        const linted = lint(cwd);
        assert.equal(linted.status, 0, linted.output);
        assert.match(linted.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('GMC', () => {
    it('ships gmc/monitoring: a scrape job per Service that serves /metrics, found by endpoint discovery in the namespace', function () {
      const bundle = exportFlow('chatqna.json', ['gmc'], 'prometheus');
      assert.deepEqual(Object.keys(bundle).filter((f) => f.startsWith('gmc/monitoring/')).sort(), ['gmc/monitoring/README.md', 'gmc/monitoring/dashboard.json', 'gmc/monitoring/prometheus-scrape.yml']);
      const cr = yaml.load(bundle['gmc/chatqna.yaml']) as Json;
      const steps = Object.values<Json>(cr.spec.nodes).flatMap((n) => n.steps).filter((s: Json) => s.internalService);
      const servedMetrics = steps.filter((s: Json) => !/^(VectorDB)$/.test(s.name)).map((s: Json) => s.internalService.serviceName);
      const config = yamlFile(bundle, 'gmc/monitoring/prometheus-scrape.yml');
      assert.deepEqual(config.scrape_configs.map((j: Json) => j.job_name), [...new Set(servedMetrics)]);
      for (const job of config.scrape_configs) {
        assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'endpoints', namespaces: { names: [cr.metadata.namespace] } }]);
        assert.deepEqual(job.relabel_configs[0], { source_labels: ['__meta_kubernetes_service_name'], regex: job.job_name, action: 'keep' });
      }
      assert.deepEqual(dashboardSchemaErrors(dashboardOf(bundle, 'gmc/monitoring/dashboard.json')), []);
      assert.match(bundle['gmc/monitoring/README.md'], /additionalScrapeConfigs/);
      if (!prometheusInstalled()) this.skip();
      // Debian's promtool is built without Kubernetes discovery: it refuses that field and nothing else,
      // and passes the same jobs (relabelling included) once a static target stands in for it.
      const dir = tempDir('promtool-gmc');
      try {
        const file = path.join(dir, 'prometheus.yml');
        fs.writeFileSync(file, bundle['gmc/monitoring/prometheus-scrape.yml']);
        const asShipped = promtoolCheckConfig(file);
        if (asShipped.status !== 0) {
          const complaints = asShipped.output.split('\n').filter((l) => /line \d+:/.test(l));
          assert.ok(complaints.length > 0 && complaints.every((l) => /field kubernetes_sd_configs not found/.test(l)), asShipped.output);
          const standIn = structuredClone(config);
          for (const job of standIn.scrape_configs) {
            delete job.kubernetes_sd_configs;
            job.static_configs = [{ targets: [`${job.job_name}:80`] }];
          }
          fs.writeFileSync(file, yaml.dump(standIn));
          const checked = promtoolCheckConfig(file);
          assert.equal(checked.status, 0, checked.output);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('exporter node', () => {
    it('its Observability setting is the CLI option: none by default, a metrics store, anything else refused by name', () => {
      assert.equal(readExporterSettings({ id: 'e', type: EXPORTER_TYPE, targets: ['compose'] }).settings.observability, undefined);
      assert.equal(readExporterSettings({ id: 'e', type: EXPORTER_TYPE, targets: ['compose'], observability: '' }).settings.observability, undefined);
      const bad = readExporterSettings({ id: 'e', type: EXPORTER_TYPE, name: 'ship it', targets: ['compose'], observability: 'graphite' });
      assert.deepEqual(bad.problems.map((p) => [p.nodeId, p.message, p.fix]), [['e', "unknown observability store 'graphite'", 'choose none, prometheus, victoriametrics']]);
      const flow = exampleFlow('chatqna.json') as Json[];
      const tab = flow.find((n) => n.type === 'tab')?.id;
      const result = exportFromFlow([...flow, { id: 'exp', type: EXPORTER_TYPE, z: tab, targets: ['compose', 'gmc'], observability: 'victoriametrics' }], 'exp');
      assert.deepEqual(result.problems, []);
      const bundle = result.bundle as Bundle;
      assert.ok(composeOf(bundle).services.victoriametrics);
      assert.ok(bundle['compose/observability/prometheus.yml'] && bundle['gmc/monitoring/prometheus-scrape.yml']);
    });
  });

  describe('CLI', () => {
    it('--observability alone is Prometheus, --observability victoriametrics picks it, anything else is refused', async () => {
      const dir = tempDir('observability-cli');
      try {
        const flow = path.join(__dirname, '..', '..', '..', 'flows', 'chatqna.json');
        const plain = await runCli(['export', flow, '--target', 'compose', '--observability', '--out', path.join(dir, 'p')]);
        assert.equal(plain.code, 0, plain.stderr);
        assert.ok(composeOf({ 'compose/compose.yaml': fs.readFileSync(path.join(dir, 'p', 'compose', 'compose.yaml'), 'utf8') }).services.prometheus);
        const vm = await runCli(['export', flow, '--observability', 'victoriametrics', '--target', 'compose', '--out', path.join(dir, 'v')]);
        assert.equal(vm.code, 0, vm.stderr);
        const project = yaml.load(fs.readFileSync(path.join(dir, 'v', 'compose', 'compose.yaml'), 'utf8')) as Json;
        assert.ok(project.services.victoriametrics && !project.services.prometheus);
        const bad = await runCli(['export', flow, '--target', 'compose', '--observability=graphite', '--out', path.join(dir, 'b')]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /unknown metrics store 'graphite' for --observability: choose prometheus, victoriametrics/);
        assert.ok(!fs.existsSync(path.join(dir, 'b')));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
