/**
 * OPEA Guardrail: a Flowise Moderation (checkForViolations) over our guardrail rail: PII, secrets,
 * prompt injection and banned words, each off / block / redact. Blocking throws, as Flowise's own
 * moderations do, so the chain answers with the error message; redaction passes the redacted input on.
 */
import { Action, CheckName, RailConfig, runRail } from '../../core/guardrail/rail';
import { parseBanList } from '../../core/guardrail/lists';
import { options, str } from '../common';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';

const ACTIONS = options(['off', 'Off'], ['block', 'Block'], ['redact', 'Redact']);
const CHECKS: [CheckName, string, string][] = [
  ['pii', 'PII (e-mail, phone, card, IBAN …)', 'redact'],
  ['secrets', 'Secrets (API keys, tokens)', 'block'],
  ['injection', 'Prompt injection', 'block'],
  ['banned', 'Banned words', 'block'],
];

export interface ModerationLike {
  checkForViolations(input: string): Promise<string>;
}

export function makeModeration(rail: RailConfig, errorMessage: string): ModerationLike {
  return {
    async checkForViolations(input: string): Promise<string> {
      const { report, payload } = await runRail(rail, input);
      if (report.verdict === 'blocked') throw new Error(`${errorMessage}${report.violatedPolicies ? ` (${report.violatedPolicies})` : ''}`);
      return typeof payload === 'string' ? payload : input;
    },
  };
}

export class OpeaGuardrail implements INode {
  label = 'OPEA Guardrail';
  name = 'opeaGuardrail';
  version = 1.0;
  type = 'Moderation';
  icon = 'opea-guardrail.svg';
  category = 'Moderation';
  description = 'Checks the input for PII, secrets, prompt injection and banned words before it reaches the LLM (same rail as the Node-RED opea-guardrail node)';
  baseClasses = [this.type];
  inputs: INodeParams[] = [
    ...CHECKS.map(([name, label, def]): INodeParams => ({ label, name, type: 'options', options: ACTIONS, default: def, optional: true })),
    { label: 'Banned Words', name: 'bannedWords', type: 'string', rows: 4, optional: true, placeholder: 'one word or phrase per line' },
    { label: 'Error Message', name: 'moderationErrorMessage', type: 'string', rows: 2, optional: true, default: 'Cannot process: the input violates the content policy.' },
  ];

  async init(nodeData: INodeData, _input: string, _options?: ICommonObject): Promise<unknown> {
    const actions: RailConfig['actions'] = {};
    for (const [check, , def] of CHECKS) {
      const value = str(nodeData.inputs, check, def);
      if (value === 'off') continue;
      if (value !== 'block' && value !== 'redact') throw new Error(`OPEA Guardrail: '${value}' is not an action for ${check} (off, block or redact)`);
      actions[check] = value as Action;
    }
    const words = str(nodeData.inputs, 'bannedWords');
    const rail: RailConfig = { position: 'input', actions, banList: words ? parseBanList(words, '') : undefined };
    if (!rail.banList) delete rail.actions.banned;
    return makeModeration(rail, str(nodeData.inputs, 'moderationErrorMessage', 'Cannot process: the input violates the content policy.'));
  }
}

export const nodeClass = OpeaGuardrail;
