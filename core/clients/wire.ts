/** Reading server answers defensively: every shape mismatch names the server and what was expected. */
import { ServiceError } from './endpoint';

type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

export function unexpected(url: string, what: string, hint = 'check the backend setting matches this server'): ServiceError {
  return new ServiceError(url, `unexpected answer: ${what}`, hint);
}

export function vectorOrFail(url: string, v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw unexpected(url, `${where} is not a list of numbers`);
  }
  return v as number[];
}

export function parseEventJson(url: string, data: string): Json {
  try {
    const value = JSON.parse(data);
    if (isObject(value)) return value;
  } catch {
    // reported below
  }
  throw unexpected(url, `a stream event is not a JSON object: ${data.slice(0, 120)}`);
}
