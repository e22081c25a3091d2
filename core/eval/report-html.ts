/** The evaluation as one self-contained HTML page: inline CSS, no scripts, every text escaped. */
import { EvaluationResult } from './runner';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const formatScore = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'NaN' : v.toFixed(3));

/** Green to red by score, for scores in [0, 1]; grey for NaN. */
function cellStyle(v: number): string {
  if (!Number.isFinite(v)) return 'background:#eee;color:#777';
  const hue = Math.round(Math.max(0, Math.min(1, v)) * 120);
  return `background:hsl(${hue},70%,88%)`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.q{max-width:28em}.meta{color:#555}`;

/** `sections` are HTML blocks placed after the summary (a comparison, a trend), already escaped. */
export function renderReport(result: EvaluationResult, title: string, createdAt: Date, sections: string[] = []): string {
  const head = result.metrics.map((m) => `<th>${escapeHtml(m)}</th>`).join('');
  const summary = result.metrics
    .map((m) => {
      const a = result.aggregate[m];
      return `<tr><td>${escapeHtml(m)}</td><td class="n" style="${cellStyle(a.mean)}">${formatScore(a.mean)}</td><td class="n">${a.scored}</td><td class="n">${a.nan}</td></tr>`;
    })
    .join('\n');
  const rows = result.samples
    .map((s) => {
      const cells = result.metrics.map((m) => `<td class="n" style="${cellStyle(s.scores[m])}">${formatScore(s.scores[m])}</td>`).join('');
      return `<tr><td class="n">${s.row}</td><td class="q">${escapeHtml(s.question)}</td><td class="q">${escapeHtml(s.answer ?? '')}</td>${cells}</tr>`;
    })
    .join('\n');
  const corpus = result.corpusBleu === undefined ? '' : `<p>Corpus BLEU: <b>${formatScore(result.corpusBleu)}</b></p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${result.rows} rows · ${result.chatCalls} judge LLM calls · ${result.embedCalls} embedding calls · ${escapeHtml(createdAt.toISOString())}</p>
<h2>Summary</h2>
<table><tr><th>metric</th><th>mean</th><th>scored</th><th>NaN</th></tr>
${summary}
</table>
${corpus}
${sections.join('\n')}
<h2>Samples</h2>
<table><tr><th>row</th><th>question</th><th>answer</th>${head}</tr>
${rows}
</table>
</body></html>
`;
}
