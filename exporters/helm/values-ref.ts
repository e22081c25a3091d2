/**
 * Manifests whose leaves may be references to values.yaml. One object serves both outputs of the
 * chart: resolved against the values it is plain Kubernetes objects (what `helm template` renders
 * with the default values), and dumped with the references turned into Go template actions it is the
 * chart's template. The surrounding structure is always js-yaml's; only the actions are Go template.
 */
import yaml from 'js-yaml';

type Json = Record<string, unknown>;

/** A value from values.yaml at `path`: a block (toYaml), a scalar, or a string printf'd from several. */
export class ValueRef {
  private constructor(
    readonly paths: string[][],
    readonly form: 'block' | 'scalar' | 'string',
    readonly format = '%s',
  ) {}

  /** A mapping or list: the whole value of a key, or (in a MergedMapping) keys added to a mapping. */
  static block(...path: string[]): ValueRef {
    return new ValueRef([path], 'block');
  }

  /** A number or boolean, as it is. */
  static scalar(...path: string[]): ValueRef {
    return new ValueRef([path], 'scalar');
  }

  /** A string: `format`'s `%s` filled with the values at `paths`, in order. */
  static text(format: string, ...paths: string[][]): ValueRef {
    if (format.split('%s').length - 1 !== paths.length) throw new Error(`internal error: format '${format}' takes a different number of values than ${paths.length}`);
    return new ValueRef(paths, 'string', format);
  }
}

/** A mapping whose keys are `fixed`'s followed by those of a block from values.yaml (a volume's source). */
export class MergedMapping {
  constructor(
    readonly fixed: Json,
    readonly ref: ValueRef,
  ) {
    if (ref.form !== 'block') throw new Error('internal error: only a block reference merges into a mapping');
    if (Object.keys(fixed).length === 0) throw new Error('internal error: a merged block cannot open a mapping (it could open a list item)');
  }
}

function lookup(values: unknown, path: string[]): unknown {
  let at = values;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !(key in at)) throw new Error(`internal error: values.yaml has no ${path.join('.')}`);
    at = (at as Json)[key];
  }
  return at;
}

/** The manifest with every reference replaced by its value in `values`. */
export function resolve(node: unknown, values: unknown): unknown {
  if (node instanceof ValueRef) {
    if (node.form !== 'string') return structuredClone(lookup(values, node.paths[0]));
    let i = 0;
    return node.format.replace(/%s/g, () => String(lookup(values, node.paths[i++])));
  }
  if (node instanceof MergedMapping) return { ...(resolve(node.fixed, values) as Json), ...(resolve(node.ref, values) as Json) };
  if (Array.isArray(node)) return node.map((n) => resolve(n, values));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, values)]));
}

/** `index .Values "a" "b"`: works for any key, dashes included. */
function valueAction(path: string[]): string {
  return `index .Values ${path.map((k) => JSON.stringify(k)).join(' ')}`;
}

function action(ref: ValueRef): string {
  if (ref.form === 'scalar') return `{{ ${valueAction(ref.paths[0])} }}`;
  if (ref.form === 'string' && ref.format === '%s') return `{{ ${valueAction(ref.paths[0])} | quote }}`;
  const args = ref.paths.map((p) => `(${valueAction(p)})`).join(' ');
  return `{{ printf ${JSON.stringify(ref.format)} ${args} | quote }}`;
}

/** Go template text that prints `text` as it is. */
export function goLiteral(text: string): string {
  return text.replace(/\{\{/g, '{{ "{{" }}');
}

export const DUMP_OPTIONS: yaml.DumpOptions = { lineWidth: 150, noRefs: true, quoteStyle: 'double' };

/** One YAML document of the chart's templates: the manifest with its references as Go template actions. */
export function templateText(node: unknown): string {
  const refs: ValueRef[] = [];
  const tokens = (n: unknown): unknown => {
    if (n instanceof ValueRef) {
      refs.push(n);
      return `@@REF${refs.length - 1}@@`;
    }
    if (n instanceof MergedMapping) {
      refs.push(n.ref);
      return { ...(tokens(n.fixed) as Json), [`@@MERGE${refs.length - 1}@@`]: null };
    }
    if (Array.isArray(n)) return n.map(tokens);
    if (typeof n !== 'object' || n === null) return n;
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, tokens(v)]));
  };
  const text = goLiteral(yaml.dump(tokens(node), DUMP_OPTIONS));
  const lines = text.split('\n').map((line) => {
    const merged = /^(\s*)"?@@MERGE(\d+)@@"?: null$/.exec(line);
    if (merged) return `${merged[1]}{{- toYaml (${valueAction(refs[Number(merged[2])].paths[0])}) | nindent ${merged[1].length} }}`;
    const block = /^(\s*(?:- )?)([^\s"][^:]*|"[^"]*"): "?@@REF(\d+)@@"?$/.exec(line);
    if (block && refs[Number(block[3])].form === 'block') {
      const indent = block[1].length + 2;
      return `${block[1]}${block[2]}:\n${' '.repeat(indent)}{{- toYaml (${valueAction(refs[Number(block[3])].paths[0])}) | nindent ${indent} }}`;
    }
    return line.replace(/"?@@REF(\d+)@@"?/g, (_, n: string) => {
      const ref = refs[Number(n)];
      if (ref.form === 'block') throw new Error('internal error: a block reference must be the whole value of a key');
      return action(ref);
    });
  });
  return lines.join('\n');
}
