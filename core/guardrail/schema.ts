/** JSON-Schema validation of generated text (typically the output rail of a JSON-answering LLM). */
import Ajv, { ValidateFunction } from 'ajv';

export type JsonCheck = (text: string) => string | null;

/** A fenced block (```json … ```) is read as its content: models often wrap JSON answers that way. */
function unfence(text: string): string {
  const m = /^\s*```[A-Za-z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return m ? m[1] : text;
}

/** Compiles the schema text; throws with what is wrong with it. Returns a check giving the problem or null. */
export function compileJsonSchema(schemaText: string): JsonCheck {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
  } catch (err) {
    throw new Error(`jsonSchema is not JSON (${(err as Error).message})`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('jsonSchema must be a JSON object (a JSON Schema)');
  let validate: ValidateFunction;
  try {
    validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  } catch (err) {
    throw new Error(`jsonSchema is not a valid JSON Schema (${(err as Error).message})`);
  }
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(unfence(text));
    } catch {
      return 'the text is not JSON';
    }
    if (validate(value)) return null;
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
  };
}
