/**
 * Reads the Prometheus text exposition format (0.0.4) into flat samples: what model servers' /metrics
 * answer. A histogram is its _bucket (with `le`), _sum and _count samples, as written.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class PrometheusTextError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

function numberOf(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new PrometheusTextError(`'${text}' is not a sample value`);
  return n;
}

/** Parses `{a="x",b="y"}` at the start of `text`; returns the labels and what follows. */
function labelsOf(text: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let rest = text.slice(1).trimStart();
  while (!rest.startsWith('}')) {
    const name = LABEL.exec(rest)?.[0];
    if (!name) throw new PrometheusTextError(`a label name is expected at '${rest.slice(0, 20)}'`);
    rest = rest.slice(name.length).trimStart();
    if (!rest.startsWith('="')) throw new PrometheusTextError(`label ${name} has no ="value"`);
    let value = '';
    let i = 2;
    for (; i < rest.length && rest[i] !== '"'; i++) {
      if (rest[i] !== '\\') {
        value += rest[i];
        continue;
      }
      const escaped = ESCAPES[rest[++i]];
      if (escaped === undefined) throw new PrometheusTextError(`label ${name} has an unknown escape \\${rest[i] ?? ''}`);
      value += escaped;
    }
    if (i >= rest.length) throw new PrometheusTextError(`label ${name} has no closing quote`);
    labels[name] = value;
    rest = rest.slice(i + 1).trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    else if (!rest.startsWith('}')) throw new PrometheusTextError(`',' or '}' is expected after label ${name}`);
  }
  return [labels, rest.slice(1)];
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const name = NAME.exec(line)?.[0];
      if (!name) throw new PrometheusTextError('a metric name is expected');
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith('{')) [labels, rest] = labelsOf(rest);
      // The value, then an optional timestamp.
      const [value] = rest.trim().split(/\s+/);
      samples.push({ name, labels, value: numberOf(value ?? '') });
    } catch (err) {
      if (err instanceof PrometheusTextError) throw new PrometheusTextError(`line ${n + 1}: ${err.message}`);
      throw err;
    }
  }
  return samples;
}
