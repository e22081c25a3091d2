/** Reading Prometheus's text exposition format in tests. */

/** The sum of a metric's samples whose labels include all of `labels`. */
export function sampleSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m && m[1] === name && Object.entries(labels).every(([k, v]) => m[2].includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
