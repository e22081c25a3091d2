/** The README section every bundle shares: how to call the deployed pipeline so that it does what the flow does. */
import { routerNodes } from '../core/gmc-shape';
import { parseCondition } from '../core/gmc-conditions';
import { DeployedRequests } from './router-requests';

/** A fenced block that no line of `text` can close early. */
function fenced(lang: string, text: string): string[] {
  const longest = text.match(/`{3,}/g)?.reduce((n, t) => Math.max(n, t.length), 0) ?? 0;
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, text, fence];
}

/**
 * `base` is a shell expression of the router's URL; `cr` the GMConnector the router runs (its
 * ensembles name the keys of a merged answer; its conditions say where a rail stops a request).
 */
export function requestSection(requests: DeployedRequests, cr: Record<string, unknown>, base: string): string[] {
  const out: string[] = ['## Requests that reproduce the flow', ''];
  out.push(
    "GMC's router hands each step the previous step's answer, with the request's `parameters` copied over it;",
    'the OPEA 1.1 services drop the settings of the nodes on the way (top_n, max_tokens, temperature, streaming...).',
    "These bodies carry the flow's settings, one per route through its switches. A request without them gets",
    "the services' defaults (`opea-flow validate --target ...` lists each difference as a warning).",
    '',
  );
  for (const r of requests.routes) {
    if (r.route) out.push(`Route ${r.route}:`, '');
    const body = JSON.stringify(r.body, null, 2);
    out.push(...fenced('sh', [`curl -s ${base}/ -H 'Content-Type: application/json' --data-binary @- <<'JSON'`, body, 'JSON'].join('\n')), '');
  }
  for (const p of requests.prompts) {
    out.push(`${p.node.replace(/[\r\n`]/g, ' ')} uses prompt \`${p.name}\` version \`${p.version}\` of its prompt library (Handlebars):`, '');
    if (p.system.trim() !== '') out.push('System:', '', ...fenced('handlebars', p.system), '');
    out.push(...fenced('handlebars', p.template), '');
  }
  for (const d of requests.dataprep) {
    out.push(`Ingest through ${d.label.replace(/[\r\n`]/g, ' ')} (the router passes the form on to the DataPrep step):`, '');
    const fields = Object.entries(d.fields).map(([k, v]) => `-F ${k}=${v}`).join(' ');
    out.push(...fenced('sh', `curl -s ${base}/dataprep -F files=@document.pdf ${fields}`), '');
  }
  const nodes = Object.values(routerNodes(cr));
  const ensembles = nodes.filter((n) => n.routerType === 'Ensemble');
  for (const e of ensembles) {
    const keys = (e.steps ?? []).map((s) => `\`${s.name}\``).join(', ');
    out.push(`An ensemble answers one JSON object with a key per branch, the branch's step name: ${keys}. A streamed answer in a branch fails the whole request (HTTP 500), so the bodies above ask an LLM there for the whole answer.`, '');
  }
  const railed = nodes.some((n) => (n.steps ?? []).some((s) => typeof s.condition === 'string' && parseCondition(s.condition)?.type === 'rail-passed'));
  if (railed) {
    out.push(
      'A request an input rail refuses goes no further: no later service is called, and the router answers HTTP 500',
      "with the body `failed to read from response body` (GMC 1.1's router closes the rail's answer before returning it),",
      'so read the status: the rail\'s own words ("Violated policies: ...") do not reach the client.',
      '',
    );
  }
  out.push(
    "A streamed answer (`streaming: true`) comes as server-sent events `data: b'...'`, each a Python bytes",
    'literal of a piece of text (as the 1.1 LLM service sends them), ending with `data: [DONE]`. GMC\'s router gives',
    'every call 30 s, answer included, and a request 1 minute.',
    '',
  );
  return out;
}
