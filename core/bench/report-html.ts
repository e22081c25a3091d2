/**
 * A benchmark result as one self-contained HTML page: tables of the metrics and their definitions, and
 * inline SVG charts (end-to-end latency histogram, TTFT CDF, completions per second over time). No
 * scripts, no external files, so it opens anywhere and can be mailed or archived as it is.
 */
import { BenchResult } from './runner';
import { Summary } from './stats';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const W = 560;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 36 };

function fmt(n: number | null, digits = 2): string {
  if (n === null || !Number.isFinite(n)) return '–';
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

interface Axis {
  min: number;
  max: number;
}

function scale(value: number, axis: Axis, from: number, to: number): number {
  const span = axis.max - axis.min || 1;
  return from + ((value - axis.min) / span) * (to - from);
}

/** A chart frame with min/max labels on both axes; `body` draws inside it with the given scales. */
function chart(title: string, xLabel: string, yLabel: string, x: Axis, y: Axis, body: (sx: (v: number) => number, sy: (v: number) => number) => string): string {
  const sx = (v: number) => scale(v, x, PAD.left, W - PAD.right);
  const sy = (v: number) => scale(v, y, H - PAD.bottom, PAD.top);
  const bottom = H - PAD.bottom;
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">
<line x1="${PAD.left}" y1="${bottom}" x2="${W - PAD.right}" y2="${bottom}" stroke="#444"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${bottom}" stroke="#444"/>
<text x="${PAD.left}" y="${bottom + 14}" font-size="11">${fmt(x.min)}</text>
<text x="${W - PAD.right}" y="${bottom + 14}" font-size="11" text-anchor="end">${fmt(x.max)}</text>
<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>
<text x="${PAD.left - 4}" y="${bottom}" font-size="11" text-anchor="end">${fmt(y.min)}</text>
<text x="${PAD.left - 4}" y="${PAD.top + 10}" font-size="11" text-anchor="end">${fmt(y.max)}</text>
<text x="12" y="${(PAD.top + bottom) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(PAD.top + bottom) / 2})">${escapeHtml(yLabel)}</text>
${body(sx, sy)}
</svg></figure>`;
}

function noData(title: string): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><p>No data.</p></figure>`;
}

const BINS = 20;

export function latencyHistogram(values: readonly number[]): string {
  const title = 'End-to-end latency histogram';
  if (values.length === 0) return noData(title);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = (max - min) / BINS || 1;
  const counts = new Array<number>(BINS).fill(0);
  for (const v of values) counts[Math.min(BINS - 1, Math.floor((v - min) / width))]++;
  return chart(title, 'latency (ms)', 'requests', { min, max: min + width * BINS }, { min: 0, max: Math.max(...counts) }, (sx, sy) =>
    counts.map((c, i) => `<rect x="${sx(min + i * width).toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(1, sx(min + (i + 1) * width) - sx(min + i * width) - 1).toFixed(1)}" height="${(sy(0) - sy(c)).toFixed(1)}" fill="#4a7ebb"><title>${c} requests, ${fmt(min + i * width)}–${fmt(min + (i + 1) * width)} ms</title></rect>`).join('\n'),
  );
}

export function ttftCdf(values: readonly number[]): string {
  const title = 'TTFT cumulative distribution';
  if (values.length === 0) return noData(title);
  const sorted = [...values].sort((a, b) => a - b);
  const x = { min: sorted[0], max: sorted[sorted.length - 1] };
  return chart(title, 'TTFT (ms)', 'fraction of requests', x, { min: 0, max: 1 }, (sx, sy) => {
    const points = [`${sx(sorted[0]).toFixed(1)},${sy(0).toFixed(1)}`];
    sorted.forEach((v, i) => points.push(`${sx(v).toFixed(1)},${sy(i / sorted.length).toFixed(1)}`, `${sx(v).toFixed(1)},${sy((i + 1) / sorted.length).toFixed(1)}`));
    return `<polyline fill="none" stroke="#c0504d" stroke-width="1.5" points="${points.join(' ')}"/>`;
  });
}

/** Completed requests per whole second of the run, by the time each ended. */
export function throughputOverTime(ends: readonly number[]): string {
  const title = 'Throughput over time';
  if (ends.length === 0) return noData(title);
  const seconds = Math.max(1, Math.ceil(Math.max(...ends) / 1000));
  const counts = new Array<number>(seconds).fill(0);
  for (const end of ends) counts[Math.min(seconds - 1, Math.floor(end / 1000))]++;
  return chart(title, 'run time (s)', 'completed requests/s', { min: 0, max: seconds }, { min: 0, max: Math.max(...counts) }, (sx, sy) => {
    const points = counts.flatMap((c, i) => [`${sx(i).toFixed(1)},${sy(c).toFixed(1)}`, `${sx(i + 1).toFixed(1)},${sy(c).toFixed(1)}`]);
    return `<polyline fill="none" stroke="#9bbb59" stroke-width="1.5" points="${points.join(' ')}"/>`;
  });
}

function summaryRow(name: string, s: Summary, keys: string[]): string {
  const cells = [s.count, fmt(s.mean), fmt(s.median), fmt(s.std), ...keys.map((k) => fmt(s.percentiles[k] ?? null)), fmt(s.min), fmt(s.max)];
  return `<tr><th>${escapeHtml(name)}</th>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

function table(rows: [string, unknown][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** `sections` are HTML blocks placed before the definitions (a comparison, a trend), already escaped. */
export function renderReport(result: BenchResult, sections: string[] = []): string {
  const m = result.metrics;
  const keys = Object.keys(m.latencyMs.e2e.percentiles);
  const load = result.load.kind === 'closed' ? `closed loop, ${result.load.concurrency} concurrent users` : `open loop, ${result.load.rate} req/s, burstiness ${result.load.burstiness}${result.load.maxConcurrency ? `, max concurrency ${result.load.maxConcurrency}` : ''}, seed ${result.load.seed}`;
  const ok = m.samples.filter((s) => s.ok);
  const errors = Object.entries(m.errors.byKind);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark ${escapeHtml(result.target.url)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{text-align:left;background:#f4f4f4}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-weight:bold}dt{font-weight:bold}</style>
</head><body>
<h1>Benchmark of ${escapeHtml(result.target.url)}</h1>
${table([
  ['started', result.startedAt],
  ['target', `${result.target.kind}${result.target.stream ? ', streaming' : ''}${result.target.model ? `, model ${result.target.model}` : ''}`],
  ['load', load],
  ['stopped by', result.stoppedBy],
  ['duration (s)', fmt(m.durationS, 3)],
  ['completed / failed / not sent', `${m.completed} / ${m.failed} / ${result.notSent}`],
  ['request throughput (req/s)', fmt(m.throughput.requestsPerS)],
  ['output token throughput (tok/s)', fmt(m.throughput.outputTokensPerS)],
  ['total token throughput (tok/s)', fmt(m.throughput.totalTokensPerS)],
  ['goodput (req/s)', m.goodput ? `${fmt(m.throughput.goodputPerS)} (${m.goodput.good} requests within ${JSON.stringify(m.goodput.slo)})` : 'no SLO given'],
  ['tokens', `${m.tokens.input} in, ${m.tokens.output} out; source: ${m.tokens.source}${m.tokens.fromTokenizer > 0 ? ` (${m.tokens.fromTokenizer} requests counted with ${m.tokens.tokenizer})` : ''}`],
])}
<h2>Latency (ms)</h2>
<table><tr><th></th><th>count</th><th>mean</th><th>median</th><th>std</th>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}<th>min</th><th>max</th></tr>
${summaryRow('TTFT', m.latencyMs.ttft, keys)}
${summaryRow('TPOT', m.latencyMs.tpot, keys)}
${summaryRow('ITL', m.latencyMs.itl, keys)}
${summaryRow('E2E', m.latencyMs.e2e, keys)}
${summaryRow('output tok/s per request', m.outputTokensPerSPerRequest, keys)}
</table>
${latencyHistogram(ok.map((s) => s.e2eMs))}
${ttftCdf(ok.flatMap((s) => (s.ttftMs === null ? [] : [s.ttftMs])))}
${throughputOverTime(ok.map((s) => s.endMs))}
<h2>Errors</h2>
${errors.length === 0 ? '<p>None.</p>' : table(errors.map(([kind, n]) => [kind, n]))}
${m.errors.examples.length === 0 ? '' : `<ul>${m.errors.examples.map((e) => `<li>#${e.index} ${escapeHtml(e.kind)}: ${escapeHtml(e.message)}</li>`).join('')}</ul>`}
${sections.join('\n')}
<h2>Definitions</h2>
<dl>${Object.entries(result.definitions).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
</body></html>
`;
}
