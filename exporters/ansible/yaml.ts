/** YAML for Ansible: js-yaml with the `!unsafe` tag, so user strings are never templated by Jinja. */
import yaml from 'js-yaml';

/** A string Ansible must take literally: `{{ }}` and `{% %}` in it are text, not a template. */
export class Unsafe {
  constructor(readonly value: string) {}
}

export const unsafe = (value: string): Unsafe => new Unsafe(value);

/**
 * js-yaml 5's scalar tag definition (what js-yaml 4 called a `Type` of kind 'scalar'): it dumps an
 * Unsafe as `!unsafe <text>`, quoted or block-styled by js-yaml as the text needs, and loads it back.
 */
export const unsafeTag = yaml.defineScalarTag<Unsafe>('!unsafe', {
  resolve: (source) => new Unsafe(source),
  identify: (data) => data instanceof Unsafe,
  represent: (data: Unsafe) => data.value,
});

const SCHEMA = yaml.DUMP_SCHEMA.withTags(unsafeTag);

/**
 * One YAML document starting with `---`, lines under ansible-lint's 160 columns. `comment` (constant
 * text of ours, never user data) goes before the document as `#` lines.
 */
export function ansibleYaml(value: unknown, comment?: string): string {
  const head = comment ? `${comment.split('\n').map((l) => (l ? `# ${l}` : '#')).join('\n')}\n` : '';
  return `---\n${head}${yaml.dump(value, { schema: SCHEMA, lineWidth: 150, noRefs: true, quoteStyle: 'double' })}`;
}

/** Parses what ansibleYaml wrote (for tests): `!unsafe` scalars come back as Unsafe. */
export function loadAnsibleYaml(text: string): unknown {
  return yaml.load(text, { schema: SCHEMA });
}
