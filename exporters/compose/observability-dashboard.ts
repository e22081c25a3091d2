/**
 * The Grafana dashboard of an exported pipeline: one query per scraped service in each panel, so the
 * dashboard names exactly the services of the bundle. Written in Grafana's dashboard JSON model (the
 * `Dashboard` type of @grafana/schema, which the tests check it against).
 */
import { MetricsFamily, SERVER_METRICS } from '../../core/catalog';

type Json = Record<string, unknown>;

/** A service Prometheus scrapes: its job is the service's name in the bundle. */
export interface ScrapeTarget {
  job: string;
  family: MetricsFamily;
}

/** The provisioned datasource every panel reads (Prometheus, or VictoriaMetrics through its Prometheus API). */
export const DATASOURCE = { type: 'prometheus', uid: 'opea-metrics' } as const;
/** Grafana's dashboard JSON model version the panels are written in (Grafana 11). */
const SCHEMA_VERSION = 39;
const RATE = '[$__rate_interval]';
/** What the spanmetrics connector of the collector makes of the OPEA microservices' spans. */
const SPAN_CALLS = 'traces_span_metrics_calls_total';
const SPAN_DURATION = 'traces_span_metrics_duration_milliseconds_bucket';

const sel = (job: string, extra = ''): string => `{job="${job}"${extra}}`;
/** The OPEA microservices' own /metrics scrapes are not traffic of the pipeline. */
const NOT_SCRAPES = ',handler!="/metrics"';

function requestsQuery(t: ScrapeTarget): string {
  if (t.family === 'opea') return `sum(rate(${SERVER_METRICS.opea.requests}${sel(t.job, NOT_SCRAPES)}${RATE}))`;
  return `sum(rate(${SERVER_METRICS[t.family].requests}${sel(t.job)}${RATE}))`;
}

/** vLLM's engine metrics count no failed request: it has no query here. */
function errorsQuery(t: ScrapeTarget): string | null {
  // OPEA's instrumentator counts answers by status class ("5xx").
  if (t.family === 'opea') return `sum(rate(${SERVER_METRICS.opea.requests}${sel(t.job, ',status=~"5.."')}${RATE}))`;
  if (t.family === 'vllm') return null;
  return `sum(rate(${SERVER_METRICS[t.family].failures}${sel(t.job)}${RATE}))`;
}

function quantile(q: number, histogram: string, selector: string): string {
  return `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket${selector}${RATE})))`;
}

function latencyQuery(q: number, t: ScrapeTarget): string {
  return quantile(q, SERVER_METRICS[t.family].duration, sel(t.job, t.family === 'opea' ? NOT_SCRAPES : ''));
}

/** Time to first token: vLLM measures it; TGI's is its queue time plus the prefill of the batch. */
function ttftQuery(t: ScrapeTarget): { expr: string; legend: string } | null {
  if (t.family === 'vllm') return { expr: quantile(0.95, SERVER_METRICS.vllm.ttft, sel(t.job)), legend: `${t.job} p95` };
  if (t.family !== 'tgi') return null;
  const m = SERVER_METRICS.tgi;
  return {
    expr: `${quantile(0.95, m.queueDuration, sel(t.job))} + ${quantile(0.95, m.inferenceDuration, sel(t.job, ',method="prefill"'))}`,
    legend: `${t.job} queue p95 + prefill p95`,
  };
}

function tokensQuery(t: ScrapeTarget): string | null {
  if (t.family === 'tgi') return `sum(rate(${SERVER_METRICS.tgi.generatedTokens}_sum${sel(t.job)}${RATE}))`;
  if (t.family === 'vllm') return `sum(rate(${SERVER_METRICS.vllm.generationTokens}${sel(t.job)}${RATE}))`;
  return null;
}

function queueQuery(t: ScrapeTarget): string | null {
  return t.family === 'opea' ? null : `sum(${SERVER_METRICS[t.family].queueSize}${sel(t.job)})`;
}

function batchQuery(t: ScrapeTarget): string | null {
  if (t.family === 'tgi') return `max(${SERVER_METRICS.tgi.batchSize}${sel(t.job)})`;
  if (t.family === 'tei') return quantile(0.5, SERVER_METRICS.tei.batchSize, sel(t.job));
  if (t.family === 'vllm') return `sum(${SERVER_METRICS.vllm.running}${sel(t.job)})`;
  return null;
}

interface Query {
  expr: string;
  legend: string;
}

class Layout {
  readonly panels: Json[] = [];
  private y = 0;
  private x = 0;
  private id = 1;

  row(title: string): void {
    if (this.x > 0) this.y += 8;
    this.x = 0;
    this.panels.push({ type: 'row', title, id: this.id++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: this.y }, panels: [] });
    this.y += 1;
  }

  /** A time series panel, two to a row; nothing when no service answers its question. */
  timeseries(title: string, description: string, unit: string, queries: Query[]): void {
    if (queries.length === 0) return;
    this.panels.push({
      type: 'timeseries',
      title,
      description,
      id: this.id++,
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 12, x: this.x, y: this.y },
      fieldConfig: { defaults: { unit }, overrides: [] },
      options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: queries.map((q, i) => ({ refId: i < 26 ? String.fromCharCode(65 + i) : `Q${i + 1}`, datasource: DATASOURCE, expr: q.expr, legendFormat: q.legend })),
    });
    this.x = this.x === 0 ? 12 : 0;
    if (this.x === 0) this.y += 8;
  }
}

function each(targets: ScrapeTarget[], query: (t: ScrapeTarget) => string | null, legend = (t: ScrapeTarget) => t.job): Query[] {
  return targets.flatMap((t) => {
    const expr = query(t);
    return expr === null ? [] : [{ expr, legend: legend(t) }];
  });
}

/** Grafana's uid limit is 40 characters. */
export function dashboardUid(name: string): string {
  return `opea-${name}`.slice(0, 40);
}

/** The dashboard of a pipeline whose services are `targets`; `tracing` adds the panels of the collector's span metrics. */
export function pipelineDashboard(name: string, targets: ScrapeTarget[], tracing: boolean): Json {
  const layout = new Layout();
  layout.row('Requests and errors per service');
  layout.timeseries('Requests per second', 'Requests each service answered (model servers: requests they accepted).', 'reqps', each(targets, requestsQuery));
  layout.timeseries('Errors per second', 'OPEA microservices: answers of status 5xx; TEI and TGI: requests they failed (te_request_failure, tgi_request_failure).', 'reqps', each(targets, errorsQuery));
  layout.row('Latency per service');
  for (const q of [0.5, 0.95, 0.99]) {
    layout.timeseries(`Latency p${Math.round(q * 100)}`, 'Time from request to whole answer, from each service\'s own histogram.', 's', each(targets, (t) => latencyQuery(q, t)));
  }
  const servers = targets.filter((t) => t.family !== 'opea');
  if (servers.length > 0) {
    layout.row('Model servers');
    layout.timeseries('Time to first token', 'vLLM: its time-to-first-token histogram. TGI has none: its queue time plus the prefill of the batch, both p95.', 's',
      servers.flatMap((t) => ttftQuery(t) ?? []));
    layout.timeseries('Generated tokens per second', 'Tokens the LLM servers generated per second, all requests together.', 'short', each(servers, tokensQuery));
    layout.timeseries('Queue size', 'Requests waiting in each model server\'s queue.', 'short', each(servers, queueQuery));
    layout.timeseries('Batch size', 'TGI: the current batch; TEI: median size of its next batches; vLLM: requests running.', 'short', each(servers, batchQuery));
  }
  if (tracing) {
    layout.row('Traces (span metrics from the OpenTelemetry Collector)');
    layout.timeseries('Spans per second', 'Spans the services sent to the collector, by service and span name.', 'reqps',
      [{ expr: `sum by (service_name, span_name) (rate(${SPAN_CALLS}${RATE}))`, legend: '{{service_name}} {{span_name}}' }]);
    layout.timeseries('Span duration p95', 'From the spans the services sent to the collector.', 'ms',
      [{ expr: `histogram_quantile(0.95, sum by (le, service_name, span_name) (rate(${SPAN_DURATION}${RATE})))`, legend: '{{service_name}} {{span_name}}' }]);
  }
  return {
    uid: dashboardUid(name),
    title: `OPEA pipeline ${name}`,
    description: 'Generated by node-red-contrib-opea from the pipeline. Export again rather than edit.',
    tags: ['opea', 'node-red-contrib-opea'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    panels: layout.panels,
    templating: { list: [] },
    annotations: { list: [] },
    links: [],
  };
}
