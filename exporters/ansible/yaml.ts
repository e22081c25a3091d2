/** YAML for Ansible: js-yaml with the `!unsafe` tag, so user strings are never templated by Jinja. */
import yaml from 'js-yaml';

/** A string Ansible must take literally: `{{ }}` in it is text, not a template. */
export class Unsafe {
  constructor(readonly value: string) {}
}

export const unsafe = (value: string): Unsafe => new Unsafe(value);

const unsafeTag = yaml.defineScalarTag<Unsafe>('!unsafe', {
  resolve: (source) => new Unsafe(source),
  identify: (data) => data instanceof Unsafe,
  represent: (data: Unsafe) => data.value,
});

const SCHEMA = yaml.DUMP_SCHEMA.withTags(unsafeTag);

/** One YAML document, starting with `---` and folded under 160 columns, as ansible-lint expects. */
export function ansibleYaml(value: unknown): string {
  return `---\n${yaml.dump(value, { schema: SCHEMA, lineWidth: 150, noRefs: true, quoteStyle: 'double' })}`;
}

/** Parses what ansibleYaml wrote (for tests): `!unsafe` scalars come back as Unsafe. */
export function loadAnsibleYaml(text: string): unknown {
  return yaml.load(text, { schema: SCHEMA });
}
