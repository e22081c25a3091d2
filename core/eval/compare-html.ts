/** The comparison of two pipelines as an HTML section of the evaluation report; every text escaped. */
import { Comparison, MetricComparison } from './compare';
import { escapeHtml } from './report-html';

const num = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : 'NaN');
const signed = (v: number, digits = 3) => (Number.isFinite(v) && v > 0 ? `+${v.toFixed(digits)}` : num(v, digits));

function metricRow(c: MetricComparison, digits: number): string {
  const ci = c.interval ? `[${signed(c.interval.low, digits)}, ${signed(c.interval.high, digits)}]` : '–';
  const verdict = c.better === 'neither' ? 'no clear difference' : `${c.better} better`;
  return `<tr><td>${escapeHtml(c.metric)}</td><td class="n">${num(c.baseline, digits)}</td><td class="n">${num(c.candidate, digits)}</td><td class="n">${signed(c.interval?.difference ?? NaN, digits)}</td><td class="n">${ci}</td><td class="n">${c.wins} / ${c.losses} / ${c.ties}</td><td>${verdict}</td></tr>`;
}

const HEAD = '<tr><th>metric</th><th>baseline</th><th>candidate</th><th>difference</th><th>CI</th><th>wins / losses / ties</th><th></th></tr>';

export function comparisonSection(c: Comparison): string {
  const level = Math.round(c.bootstrap.confidence * 100);
  const changed = c.mostChanged
    .map((r) => {
      const changes = Object.entries(r.changes)
        .map(([m, d]) => `${escapeHtml(m)} ${signed(d)}`)
        .join(', ');
      return `<tr><td class="n">${r.row}</td><td class="q">${escapeHtml(r.question)}</td><td class="q">${escapeHtml(r.baselineAnswer ?? '')}</td><td class="q">${escapeHtml(r.candidateAnswer ?? '')}</td><td>${changes}</td></tr>`;
    })
    .join('\n');
  return `<h2>Comparison</h2>
<p class="meta">baseline <b>${escapeHtml(c.baseline)}</b> · candidate <b>${escapeHtml(c.candidate)}</b> · ${c.rows} rows · difference = candidate − baseline over the rows both scored · ${level}% paired bootstrap CI, ${c.bootstrap.resamples} resamples, seed ${c.bootstrap.seed}</p>
<table>${HEAD}
${c.quality.map((m) => metricRow(m, 3)).join('\n')}
</table>
${c.cost.length === 0 ? '' : `<h3>Cost (lower is better)</h3>
<p class="meta">latency_ms: ms to answer a row; answer_tokens: the answer's tokens counted with ${escapeHtml(c.tokenizer)}</p>
<table>${HEAD}
${c.cost.map((m) => metricRow(m, 1)).join('\n')}
</table>`}
<h3>Rows that changed most</h3>
${changed === '' ? '<p>No row scored differently.</p>' : `<table><tr><th>row</th><th>question</th><th>baseline answer</th><th>candidate answer</th><th>change</th></tr>\n${changed}\n</table>`}`;
}
