/** The comparison of two benchmark runs as text and as an HTML section of the candidate's report. */
import { BenchComparison } from './compare';
import { escapeHtml } from './report-html';

const num = (v: number | null | undefined, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const signed = (v: number | null | undefined) => (typeof v === 'number' && v > 0 ? `+${num(v)}` : num(v));
const verdict = (better: string) => (better === 'neither' ? 'no clear difference' : `${better} faster`);

export function comparisonLines(c: BenchComparison): string {
  let out = `comparison: ${c.candidate} (candidate) − ${c.baseline} (baseline), ${Math.round(c.bootstrap.confidence * 100)}% CI, seed ${c.bootstrap.seed}\n`;
  for (const l of c.latency) {
    const ci = l.interval ? `[${signed(l.interval.low)}, ${signed(l.interval.high)}]` : '–';
    out += `  ${`${l.metric} mean`.padEnd(20)} ${num(l.baseline)} → ${num(l.candidate)}  diff ${signed(l.interval?.difference)} ${ci}  ${verdict(l.better)}\n`;
  }
  out += `  ${'requests/s'.padEnd(20)} ${num(c.throughput.requestsPerS.baseline)} → ${num(c.throughput.requestsPerS.candidate)}\n`;
  out += `  ${'output tokens/s'.padEnd(20)} ${num(c.throughput.outputTokensPerS.baseline)} → ${num(c.throughput.outputTokensPerS.candidate)}\n`;
  out += `  ${'completed / failed'.padEnd(20)} ${c.completed.baseline} / ${c.failed.baseline} → ${c.completed.candidate} / ${c.failed.candidate}\n`;
  return out;
}

export function benchComparisonSection(c: BenchComparison): string {
  const rows = c.latency
    .map((l) => `<tr><th>${escapeHtml(l.metric)} mean</th><td>${num(l.baseline)}</td><td>${num(l.candidate)}</td><td>${signed(l.interval?.difference)}</td><td>${l.interval ? `[${signed(l.interval.low)}, ${signed(l.interval.high)}]` : '–'}</td><td>${escapeHtml(verdict(l.better))}</td></tr>`)
    .join('\n');
  const plain = (name: string, a: number, b: number) => `<tr><th>${name}</th><td>${num(a)}</td><td>${num(b)}</td><td>${signed(b - a)}</td><td>–</td><td></td></tr>`;
  return `<h2>Comparison</h2>
<p>baseline <b>${escapeHtml(c.baseline)}</b> · candidate <b>${escapeHtml(c.candidate)}</b> · run one after the other · difference = candidate − baseline · ${Math.round(c.bootstrap.confidence * 100)}% bootstrap CI over the completed requests (unpaired), ${c.bootstrap.resamples} resamples, seed ${c.bootstrap.seed}</p>
<table><tr><th></th><th>baseline</th><th>candidate</th><th>difference</th><th>CI</th><th></th></tr>
${rows}
${plain('requests/s', c.throughput.requestsPerS.baseline, c.throughput.requestsPerS.candidate)}
${plain('output tokens/s', c.throughput.outputTokensPerS.baseline, c.throughput.outputTokensPerS.candidate)}
<tr><th>completed / failed</th><td>${c.completed.baseline} / ${c.failed.baseline}</td><td>${c.completed.candidate} / ${c.failed.candidate}</td><td></td><td></td><td></td></tr>
</table>`;
}
