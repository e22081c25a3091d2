/**
 * An evaluation as JUnit XML, the report CI systems read: one test suite per pipeline, one test case
 * per threshold (a failure when the metric is below it), the metric means as the suite's properties.
 * A pipeline without thresholds gets one test case per metric, failed only when no row was scored.
 */
import { EvaluationResult } from './runner';
import { ThresholdVerdict } from './results-gate';

export interface JunitSuite {
  name: string;
  result: EvaluationResult;
  verdicts: ThresholdVerdict[];
  /** Seconds the evaluation took. */
  seconds: number;
  /** Extra name/value pairs, as a comparison's differences. */
  properties?: Record<string, string>;
}

/** Text as XML 1.0 can hold it: markup escaped, characters XML forbids dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const value = (v: number) => (Number.isFinite(v) ? String(Number(v.toFixed(6))) : 'NaN');

interface Case {
  name: string;
  failure?: string;
}

function casesOf(suite: JunitSuite): Case[] {
  if (suite.verdicts.length > 0) return suite.verdicts.map((v) => ({ name: `${v.metric} >= ${v.min}`, failure: v.passed ? undefined : v.reason }));
  return suite.result.metrics.map((m) => {
    const a = suite.result.aggregate[m];
    return { name: m, failure: Number.isFinite(a.mean) ? undefined : `${m} is NaN: no row could be scored on it` };
  });
}

function suiteXml(suite: JunitSuite, timestamp: string): string {
  const cases = casesOf(suite);
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const properties = [...suite.result.metrics.map((m) => [m, value(suite.result.aggregate[m].mean)] as const), ['rows', String(suite.result.rows)] as const, ...Object.entries(suite.properties ?? {})];
  const caseXml = cases
    .map((c) => {
      const open = `    <testcase classname="${xmlText(`opea-flow eval.${suite.name}`)}" name="${xmlText(c.name)}" time="0"`;
      return c.failure === undefined ? `${open}/>` : `${open}>\n      <failure message="${xmlText(c.failure)}" type="threshold">${xmlText(c.failure)}</failure>\n    </testcase>`;
    })
    .join('\n');
  return `  <testsuite name="${xmlText(suite.name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${suite.seconds.toFixed(3)}" timestamp="${xmlText(timestamp)}">
    <properties>
${properties.map(([k, v]) => `      <property name="${xmlText(k)}" value="${xmlText(v)}"/>`).join('\n')}
    </properties>
${caseXml}
  </testsuite>`;
}

export function renderJunit(suites: readonly JunitSuite[], createdAt: Date): string {
  const timestamp = createdAt.toISOString().replace(/\.\d+Z$/, '');
  const all = suites.map(casesOf);
  const tests = all.reduce((n, c) => n + c.length, 0);
  const failures = all.reduce((n, c) => n + c.filter((x) => x.failure !== undefined).length, 0);
  const seconds = suites.reduce((s, x) => s + x.seconds, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="opea-flow eval" tests="${tests}" failures="${failures}" errors="0" time="${seconds.toFixed(3)}">
${suites.map((s) => suiteXml(s, timestamp)).join('\n')}
</testsuites>
`;
}
