/**
 * What every target shares about guardrail stages: where a rail may sit in the routed chain, and
 * how the compose project starts the guardrails service that upstream GMC cannot deploy.
 */
import { findBackend, service } from '../core/catalog';
import { Component } from '../core/model';
import { Plan, Stage } from '../core/plan';
import { ProblemList } from '../core/problems';

/** The compose deployment of a guardrail's backend, when compose can start it. */
export function composeGuardrail(component: Component): { service: string; modelServer: { service: string; env: string } } | undefined {
  if (component.kind !== 'guardrail') return undefined;
  const deploy = findBackend(component.kind, component.backend)?.deploy;
  return deploy?.type === 'external' ? deploy.compose : undefined;
}

/** Compose service name of the model server behind the guardrails service `serviceName`. */
export function guardModelServerName(serviceName: string): string {
  return `${serviceName}-tgi`;
}

/** The URL the compose project's router calls a guardrails service at. */
export function composeGuardrailUrl(component: Component, serviceName: string): string {
  const deployment = composeGuardrail(component);
  const chain = deployment ? service(deployment.service).chain : undefined;
  if (!chain) throw new Error(`catalog: guardrail backend ${component.backend} has no compose deployment`);
  return `http://${serviceName}:${chain.port}${chain.path}`;
}

/**
 * A rail checks what reaches its place in the chain: an input rail must come before every LLM (the
 * router hands it the request or a stage's text), an output rail after one (it reads the answer).
 * OPEA's guardrails service takes text or an answer, never retrieved documents.
 */
export function checkGuardrailPositions(plan: Plan, problems: ProblemList): void {
  const walk = (stages: Stage[], llmBefore: boolean): boolean => {
    let seen = llmBefore;
    for (const stage of stages) {
      if (stage.type === 'switch') {
        seen = stage.branches.map((b) => walk(b.stages, seen)).some(Boolean) || seen;
        continue;
      }
      if (stage.type === 'ensemble') {
        seen = stage.branches.map((b) => walk(b, seen)).some(Boolean) || seen;
        continue;
      }
      const c = stage.component;
      if (c.kind === 'llm') seen = true;
      if (c.kind !== 'guardrail') continue;
      const position = String(c.params.position ?? 'input');
      if (position === 'documents') {
        problems.add(c.id, c.label, "position 'documents' cannot be exported: OPEA's guardrails service checks a text or an answer, not retrieved documents", "use position input or output, or keep this rail in Node-RED only (disable it for export)");
      } else if (position === 'input' && seen) {
        problems.add(c.id, c.label, 'it is an input rail, but an LLM answers before it in the pipeline', 'wire it before the LLM (an input rail usually comes first), or set position to output');
      } else if (position === 'output' && !seen) {
        problems.add(c.id, c.label, 'it is an output rail, but no LLM answers before it in the pipeline', 'wire it after the LLM, or set position to input');
      }
    }
    return seen;
  };
  walk(plan.stages, false);
}
