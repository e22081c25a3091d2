/**
 * A prompt library: named prompts, each with a version and a description, held by an opea-prompt
 * config node and so carried in the flow JSON. An LLM node picks one by name (its highest version
 * unless it names one); msg.prompt may pick another by name at run time.
 */
import { PromptTemplates } from './apply';
import { PromptCache } from './template';

export interface LibraryPrompt {
  name: string;
  version: string;
  description: string;
  system: string;
  template: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Versions compare as dotted numbers where they are numbers (1.10 after 1.9, 1.0 equal to 1), else as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** The prompts of a library's saved `prompts` property, and what is wrong with them, in words. */
export function readLibrary(saved: unknown, cache: PromptCache): { prompts: LibraryPrompt[]; problems: string[] } {
  const problems: string[] = [];
  const prompts: LibraryPrompt[] = [];
  if (!Array.isArray(saved)) return { prompts, problems: saved === undefined ? [] : ['its prompts are not a list'] };
  saved.forEach((raw, i) => {
    const p = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const field = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : '');
    const prompt: LibraryPrompt = { name: field('name').trim(), version: field('version').trim() || '1', description: field('description'), system: field('system'), template: field('template') };
    const which = `prompt ${i + 1}${prompt.name ? ` (${prompt.name} ${prompt.version})` : ''}`;
    if (!NAME.test(prompt.name)) problems.push(`${which} needs a name of letters, digits, _ . : - (at most 128)`);
    else if (!NAME.test(prompt.version)) problems.push(`${which} needs a version of letters, digits, _ . : -, such as 1 or 2.1`);
    else if (prompts.some((q) => q.name === prompt.name && q.version === prompt.version)) problems.push(`${which} repeats a name and version`);
    for (const [part, source] of [['system prompt', prompt.system], ['template', prompt.template]] as const) {
      try {
        if (source !== '') cache.get(source);
      } catch (err) {
        problems.push(`${which}: its ${part} has a ${(err as Error).message}`);
      }
    }
    if (prompt.template.trim() === '') problems.push(`${which} has no template`);
    prompts.push(prompt);
  });
  return { prompts, problems };
}

/** The prompt of that name: the given version, else the highest; undefined when there is none. */
export function findPrompt(prompts: readonly LibraryPrompt[], name: string, version = ''): LibraryPrompt | undefined {
  const named = prompts.filter((p) => p.name === name);
  if (version !== '') return named.find((p) => p.version === version);
  return [...named].sort((a, b) => compareVersions(b.version, a.version))[0];
}

/** What a library has, for an error that names a prompt it does not: "answer 1, 2; summary 1". */
export function libraryContents(prompts: readonly LibraryPrompt[]): string {
  if (prompts.length === 0) return 'no prompts';
  const byName = new Map<string, string[]>();
  for (const p of prompts) byName.set(p.name, [...(byName.get(p.name) ?? []), p.version]);
  return [...byName].map(([name, versions]) => `${name} ${versions.join(', ')}`).join('; ');
}

export function templatesOf(prompt: Pick<LibraryPrompt, 'system' | 'template'>, cache: PromptCache): PromptTemplates {
  return { user: cache.get(prompt.template), ...(prompt.system.trim() !== '' ? { system: cache.get(prompt.system) } : {}) };
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

/**
 * The templates and version of the library prompt a flow's opea-llm node names (what an export
 * carries), or what is wrong: the library missing from the flow, its errors, or no such prompt.
 */
export function libraryPromptOf(
  node: FlowNode,
  byId: ReadonlyMap<string, FlowNode>,
  cache: PromptCache,
): { params: { systemTemplate: string; userTemplate: string; promptVersion: string } } | { message: string; fix: string } | undefined {
  const name = typeof node.promptName === 'string' ? node.promptName.trim() : '';
  const libraryId = typeof node.promptLibrary === 'string' ? node.promptLibrary : '';
  if (name === '') return undefined;
  const library = byId.get(libraryId);
  if (!library || library.type !== 'opea-prompt') {
    return { message: `it names prompt ${name}, but its prompt library is ${libraryId === '' ? 'not chosen' : 'missing from the flow'}`, fix: 'choose an opea-prompt library in the node, or export the flow with its config nodes' };
  }
  const { prompts, problems } = readLibrary(library.prompts, cache);
  if (problems.length > 0) return { message: `its prompt library ${library.id} has errors: ${problems.join('; ')}`, fix: 'fix the prompts of the opea-prompt config node' };
  const version = typeof node.promptVersion === 'string' ? node.promptVersion.trim() : '';
  const prompt = findPrompt(prompts, name, version);
  if (!prompt) return { message: `its prompt library ${library.id} has no prompt ${name}${version ? ` version ${version}` : ''} (it has ${libraryContents(prompts)})`, fix: 'name one of its prompts, or add it to the library' };
  return { params: { systemTemplate: prompt.system, userTemplate: prompt.template, promptVersion: prompt.version } };
}
