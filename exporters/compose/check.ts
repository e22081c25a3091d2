/**
 * Checks a compose project the way Docker Compose will: the compose-spec schema, plus what the schema
 * cannot see (dependencies that exist, health checks behind service_healthy, host ports, declared
 * volumes, networks and secrets). Returns every violation found.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';

const SCHEMA_FILE = path.join(__dirname, '..', '..', '..', 'exporters', 'compose', 'schema', 'compose-spec.json');

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    validator = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
  }
  return validator;
}

type Json = Record<string, unknown>;

function dependencies(service: Json): [string, string][] {
  const dep = service.depends_on;
  if (Array.isArray(dep)) return dep.map((d) => [String(d), 'service_started']);
  if (dep && typeof dep === 'object') return Object.entries(dep as Json).map(([name, v]) => [name, String((v as Json)?.condition ?? 'service_started')]);
  return [];
}

/** Host side of a port mapping, as "ip:port/proto", or null when nothing is published on the host. */
function hostPorts(service: Json): string[] {
  const ports = Array.isArray(service.ports) ? service.ports : [];
  const out: string[] = [];
  for (const p of ports) {
    if (typeof p === 'object' && p !== null) {
      const entry = p as Json;
      if (entry.published !== undefined) out.push(`${entry.host_ip ?? ''}:${entry.published}/${entry.protocol ?? 'tcp'}`);
      continue;
    }
    const [spec, proto = 'tcp'] = String(p).replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, '$1').split('/');
    const parts = spec.split(':');
    if (parts.length === 2) out.push(`:${parts[0]}/${proto}`);
    else if (parts.length === 3) out.push(`${parts[0]}:${parts[1]}/${proto}`);
  }
  return out;
}

function namedVolumes(service: Json): string[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes
    .map((v) => (typeof v === 'string' ? v.split(':')[0] : String((v as Json).type === 'volume' ? (v as Json).source : '')))
    .filter((source) => source !== '' && !/^[./~$]/.test(source));
}

function listOrKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : String((v as Json).source)));
  return value && typeof value === 'object' ? Object.keys(value) : [];
}

export function checkComposeProject(project: unknown): string[] {
  const validate = schemaValidator();
  if (!validate(project)) {
    return (validate.errors ?? []).map((e) => `schema: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
  const errors: string[] = [];
  const doc = project as Json;
  const services = (doc.services ?? {}) as Record<string, Json>;
  const declared = (key: string) => new Set(Object.keys((doc[key] ?? {}) as Json));
  const volumes = declared('volumes');
  const networks = declared('networks');
  const secrets = declared('secrets');
  const published = new Map<string, string>();
  for (const [name, service] of Object.entries(services)) {
    for (const [target, condition] of dependencies(service)) {
      const other = services[target];
      if (!other) errors.push(`services.${name}.depends_on names '${target}', which is no service`);
      else if (condition === 'service_healthy' && !other.healthcheck) errors.push(`services.${name} waits for '${target}' to be healthy, but it has no healthcheck`);
    }
    for (const port of hostPorts(service)) {
      const owner = published.get(port);
      if (owner) errors.push(`services.${name} publishes host port ${port}, already published by ${owner}`);
      published.set(port, name);
    }
    for (const v of namedVolumes(service)) if (!volumes.has(v)) errors.push(`services.${name} mounts volume '${v}', which is not declared`);
    for (const n of listOrKeys(service.networks)) if (n !== 'default' && !networks.has(n)) errors.push(`services.${name} joins network '${n}', which is not declared`);
    for (const s of listOrKeys(service.secrets)) if (!secrets.has(s)) errors.push(`services.${name} uses secret '${s}', which is not declared`);
  }
  return errors;
}
