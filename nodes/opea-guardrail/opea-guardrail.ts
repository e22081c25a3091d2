/**
 * opea-guardrail: checks the text a message carries (input, output or retrieved documents) and
 * sends it on output 1 when it passes (unchanged, or redacted in the same shape) or on output 2
 * when a blocking check found something; both carry the findings in msg.guardrail.
 */
import { BanList, parseBanList } from '../../core/guardrail/lists';
import { Action, CheckName, RailConfig, RailReport, runRail } from '../../core/guardrail/rail';
import { llamaGuardVersionOf, LlamaGuardVersion, parseOpeaServices, remoteCheck, RemoteSetup } from '../../core/guardrail/remote';
import { compileJsonSchema, JsonCheck } from '../../core/guardrail/schema';
import { Position } from '../../core/guardrail/slots';
import { ParamValue } from '../../core/model';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, readSettings } from '../shared/service-node';

const CHECKS: CheckName[] = ['pii', 'secrets', 'injection', 'banned', 'characters', 'limits', 'schema', 'remote'];

/** Runs `read`, turning what it throws into a settings problem. */
function attempt<T>(problems: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    problems.push((err as Error).message);
    return undefined;
  }
}

function remoteSetup(backend: string, model: string | undefined, p: Record<string, ParamValue>, problems: string[]): RemoteSetup | undefined {
  if (backend === 'opea') {
    const services = attempt(problems, () => parseOpeaServices(p.remoteChecks as string));
    if (services && services.length === 0) problems.push('remoteChecks lists no OPEA service: name at least one of guardrails, pii, injection, toxicity, bias');
    return services && services.length > 0 ? { backend, services } : undefined;
  }
  if (backend === 'llamaguard' && model) {
    const version = p.llamaGuardVersion === 'auto' ? llamaGuardVersionOf(model) : (p.llamaGuardVersion as LlamaGuardVersion);
    if (!version) problems.push(`the Llama Guard version cannot be read from the model id '${model}': set llamaGuardVersion (it decides the category names)`);
    return version ? { backend, model, version } : undefined;
  }
  return undefined;
}

function statusOf(report: RailReport): string {
  if (report.verdict === 'blocked') return `blocked: ${report.violatedPolicies?.replace(/^Violated policies: /, '').replace(/, please check your input\.$/, '')}`;
  if (report.verdict === 'redacted') return `redacted ${report.findings.filter((f) => f.action === 'redact').length}`;
  return report.findings.length > 0 ? `pass, ${report.findings.length} noted` : 'pass';
}

/** Passes the verdicts on, warning once (in the debug sidebar and log) when one was reached with less than asked for. */
function warningOnce(node: RedNode, check: NonNullable<RailConfig['remote']>): NonNullable<RailConfig['remote']> {
  let warned = false;
  return async (turn, signal) => {
    const verdicts = await check(turn, signal);
    const note = verdicts.find((v) => v.note)?.note;
    if (note && !warned) {
      warned = true;
      node.warn(`${note} — checking the pair needs GenAIComps 1.1 to 1.3, or the llamaguard backend`);
    }
    return verdicts;
  };
}

module.exports = function register(RED: Red): void {
  function OpeaGuardrail(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const { settings, problems } = readSettings('opea-guardrail', config);
    const p = settings.params;
    const actions: RailConfig['actions'] = {};
    for (const check of CHECKS) if (typeof p[check] === 'string' && p[check] !== 'off') actions[check] = p[check] as Action;
    const banList: BanList | undefined = attempt(problems, () => parseBanList(p.bannedWords as string, p.bannedTopics as string));
    const jsonCheck: JsonCheck | undefined = p.jsonSchema ? attempt(problems, () => compileJsonSchema(p.jsonSchema as string)) : undefined;
    let remote: RailConfig['remote'];
    if (actions.remote && settings.backend !== 'local') {
      if (typeof config.server !== 'string' || config.server === '') {
        problems.push(`the ${settings.backend} backend checks through a server: choose an opea-server, or set remote to off`);
      } else {
        const setup = remoteSetup(settings.backend, settings.model, p, problems);
        if (setup) remote = warningOnce(node, remoteCheck(() => endpointOf(RED, config.server)!, setup));
      }
    }
    const rail: RailConfig = {
      position: p.position as Position,
      actions,
      banList,
      limits: { maxChars: p.maxChars as number, maxTokens: p.maxTokens as number },
      jsonCheck,
      remote,
    };

    handleInput(node, 'guardrail', problems, async (msg, signal) => {
      const { report, payload } = await runRail(rail, msg.payload, signal);
      msg.guardrail = report;
      msg.guardrails = [...(Array.isArray(msg.guardrails) ? msg.guardrails : []), report];
      msg.payload = payload;
      return { status: statusOf(report), metrics: { findings: report.findings.length, ...(report.tokens ? { tokens: report.tokens.count } : {}) }, second: report.verdict === 'blocked' };
    });
  }
  RED.nodes.registerType('opea-guardrail', OpeaGuardrail);
};
