/** A pipeline's trend over its kept runs as an HTML section: one small inline SVG line per metric, then the runs. */
import { escapeHtml } from './report-html';
import { ResultRecord } from './results';

const WIDTH = 240;
const HEIGHT = 40;

/** A polyline of the values (nulls left out) scaled into the box; the range is printed beside it. */
function sparkline(values: (number | null)[]): string {
  const points = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
  if (points.length === 0) return '';
  const ys = points.map((p) => p[1]);
  const [min, max] = [Math.min(...ys), Math.max(...ys)];
  const x = (i: number) => (values.length === 1 ? WIDTH / 2 : (i / (values.length - 1)) * (WIDTH - 8) + 4);
  const y = (v: number) => (max === min ? HEIGHT / 2 : HEIGHT - 4 - ((v - min) / (max - min)) * (HEIGHT - 8));
  const coords = points.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const dots = points.map(([i, v]) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2"/>`).join('');
  return `<svg width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"><polyline fill="none" stroke="#36c" stroke-width="1.5" points="${coords}"/><g fill="#36c">${dots}</g></svg>`;
}

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : 'NaN');

/** `runs` are the pipeline's runs on this dataset, oldest first, this one last. */
export function trendSection(runs: readonly ResultRecord[], metrics: readonly string[], where: string): string {
  const lines = metrics
    .map((m) => {
      const values = runs.map((r) => (m in r.metrics ? r.metrics[m] : null));
      const known = values.filter((v): v is number => v !== null);
      const range = known.length === 0 ? '' : `${num(Math.min(...known))} – ${num(Math.max(...known))}`;
      return `<tr><td>${escapeHtml(m)}</td><td>${sparkline(values)}</td><td class="n">${range}</td><td class="n">${num(values[values.length - 1])}</td></tr>`;
    })
    .join('\n');
  const table = runs
    .map((r) => `<tr><td>${escapeHtml(r.time)}</td><td><code>${escapeHtml((r.flowHash ?? '').slice(0, 12))}</code></td><td>${escapeHtml(r.models.join(', '))}</td>${metrics.map((m) => `<td class="n">${num(r.metrics[m])}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2>Trend</h2>
<p class="meta">${runs.length} run${runs.length === 1 ? '' : 's'} of this pipeline on this dataset, kept in ${escapeHtml(where)}, oldest first</p>
<table><tr><th>metric</th><th>over the runs</th><th>range</th><th>this run</th></tr>
${lines}
</table>
<table><tr><th>time</th><th>flow</th><th>models</th>${metrics.map((m) => `<th>${escapeHtml(m)}</th>`).join('')}</tr>
${table}
</table>`;
}
