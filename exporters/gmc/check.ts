/**
 * Checks a GMConnector the way the cluster will: the CRD's schema (strict: no unknown fields), the
 * admission webhook's rules and the controller's wiring rules, of upstream GMC or of another
 * dialect's controller. Returns every violation found.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import yaml from 'js-yaml';
import { isDnsLabel } from '../../core/names';
import { GmcDialect, UPSTREAM_DIALECT } from './rules';
import { parseCondition } from '../../core/gmc-conditions';
import { GmcRouterNode as RouterNode } from '../../core/gmc-shape';

const CRD_DIR = path.join(__dirname, '..', '..', '..', 'exporters', 'gmc', 'crd');

type Json = Record<string, unknown>;

/** Kubernetes prunes unknown fields silently; we reject them, so nothing the user meant is lost. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, strict(v)])) : strict(value);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const validators = new Map<string, ValidateFunction>();

function crdValidator(crdFile: string): ValidateFunction {
  let validator = validators.get(crdFile);
  if (!validator) {
    const crd = yaml.load(fs.readFileSync(path.join(CRD_DIR, crdFile), 'utf8')) as Json;
    const versions = (crd.spec as Json).versions as Json[];
    const v1alpha3 = versions.find((v) => v.name === 'v1alpha3') as Json;
    const schema = strict((v1alpha3.schema as Json).openAPIV3Schema);
    validator = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema as object);
    validators.set(crdFile, validator);
  }
  return validator;
}

function checkMetadata(cr: Json, errors: string[]): void {
  const meta = (cr.metadata ?? {}) as Json;
  if (cr.apiVersion !== 'gmc.opea.io/v1alpha3') errors.push(`apiVersion must be gmc.opea.io/v1alpha3, not ${String(cr.apiVersion)}`);
  if (cr.kind !== 'GMConnector') errors.push(`kind must be GMConnector, not ${String(cr.kind)}`);
  if (typeof meta.name !== 'string' || !isDnsLabel(meta.name)) errors.push(`metadata.name '${String(meta.name)}' is not a DNS-1123 label`);
  if (meta.namespace !== undefined && (typeof meta.namespace !== 'string' || !isDnsLabel(meta.namespace))) {
    errors.push(`metadata.namespace '${String(meta.namespace)}' is not a DNS-1123 label`);
  }
  for (const [key, value] of Object.entries((meta.labels ?? {}) as Json)) {
    if (typeof value !== 'string' || !/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(value)) {
      errors.push(`metadata.labels.${key} has an invalid label value`);
    }
  }
}

function checkNode(dialect: GmcDialect, nodeName: string, node: RouterNode, nodeNames: string[], serviceOwners: Map<string, string>, errors: string[]): void {
  const steps = node.steps ?? [];
  const at = (i: number) => `spec.nodes.${nodeName}.steps[${i}]`;
  const downstream = new Map(steps.filter((s) => s.internalService?.isDownstreamService === true).map((s) => [s.internalService?.serviceName, s]));
  const firstExecuted = steps.findIndex((s) => !s.internalService?.isDownstreamService);
  steps.forEach((step, i) => {
    const name = step.name ?? '';
    if (!dialect.stepNames.includes(name)) errors.push(`${at(i)}.name '${name}' is not a step name GMC's webhook accepts`);
    if (step.nodeName !== undefined && !nodeNames.includes(step.nodeName)) errors.push(`${at(i)}.nodeName '${step.nodeName}' does not exist`);
    const targets = [step.nodeName, step.externalService, step.internalService].filter((t) => t !== undefined);
    if (targets.length !== 1) errors.push(`${at(i)} needs exactly one of nodeName, internalService, externalService`);
    const svc = step.internalService;
    if (svc) {
      if (!dialect.templatedSteps.includes(name)) errors.push(`${at(i)}: GMC has no template to deploy a '${name}' step`);
      const serviceName = svc.serviceName ?? '';
      if (!isDnsLabel(serviceName)) errors.push(`${at(i)}.internalService.serviceName '${serviceName}' is not a DNS-1035 label`);
      const owner = serviceOwners.get(serviceName);
      if (owner) errors.push(`${at(i)}.internalService.serviceName '${serviceName}' is already used by ${owner}`);
      serviceOwners.set(serviceName, at(i));
      for (const [key, value] of Object.entries(svc.config ?? {})) {
        if (!dialect.downstreamKeys.includes(key)) continue;
        const target = downstream.get(value);
        if (!target) errors.push(`${at(i)}.internalService.config.${key} names '${value}', which is no downstream step of node ${nodeName}`);
        else if (!dialect.templatedSteps.includes(target.name ?? '')) errors.push(`${at(i)}.internalService.config.${key} names a '${target.name}' step, which GMC cannot resolve`);
      }
    }
    if (step.externalService !== undefined && !/^https?:\/\/\S+$/.test(step.externalService)) {
      errors.push(`${at(i)}.externalService is not an http(s) URL`);
    }
    if (step.condition !== undefined) {
      const condition = parseCondition(step.condition);
      if (node.routerType === 'Switch' && condition?.type !== 'equals' && condition?.type !== 'otherwise') {
        errors.push(`${at(i)}.condition '${step.condition}' is neither a key==value the router can match nor a default branch`);
      } else if (node.routerType === 'Sequence' && (condition?.type !== 'rail-passed' || i === firstExecuted)) {
        errors.push(`${at(i)}.condition '${step.condition}' in a Sequence must test that the rail before it passed`);
      } else if (node.routerType === 'Ensemble') {
        errors.push(`${at(i)}.condition is not read in an Ensemble`);
      }
    }
    const executed = !svc?.isDownstreamService;
    if (node.routerType === 'Sequence' && executed && i !== firstExecuted && step.data !== '$response') {
      errors.push(`${at(i)} follows another step of a Sequence but does not take its response (data: $response)`);
    }
  });
}

export function checkGmConnector(cr: unknown, dialect: GmcDialect = UPSTREAM_DIALECT): string[] {
  const errors: string[] = [];
  const validate = crdValidator(dialect.crdFile);
  if (!validate(cr)) {
    for (const e of validate.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as Json).additionalProperty)}'` : '';
      errors.push(`schema: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`);
    }
    return errors;
  }
  const doc = cr as Json;
  checkMetadata(doc, errors);
  const nodes = ((doc.spec as Json).nodes ?? {}) as Record<string, RouterNode>;
  const nodeNames = Object.keys(nodes);
  if (!nodeNames.includes('root')) errors.push('spec.nodes has no root node');
  const serviceOwners = new Map<string, string>();
  for (const name of nodeNames) checkNode(dialect, name, nodes[name], nodeNames, serviceOwners, errors);
  return errors;
}
