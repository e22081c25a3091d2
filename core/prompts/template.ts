/**
 * Prompt templates in Handlebars: compiled once, with HTML escaping off (a prompt is not HTML), a small
 * helper set and only known helpers, so every mistake is found when the template is compiled, with its
 * line and column. A template that only places {{question}} and {{context}} in fixed text is also
 * given in the {context}/{question} form the OPEA LLM service fills itself (its chat_template).
 */
import Handlebars from 'handlebars';
import { ChatMessage, RetrievedDoc } from '../contract/documents';
import { truncateTokens } from '../tokens';

/** What a template can name besides the message properties the node lists. */
export const PROMPT_VARIABLES = ['question', 'documents', 'context', 'history'] as const;

export const PROMPT_HELPERS = {
  truncate: '{{truncate text 200}}: the first 200 tokens of text (cl100k_base)',
  join: '{{join list ", "}}: the items joined by the separator (a document joins as its text); newline by default',
  default: '{{default value "none"}}: the value, or the fallback when it is missing or empty',
} as const;

const BUILT_IN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log'];

/** A template that does not compile: what is wrong and where (1-based line and column). */
export class PromptTemplateError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`template error at line ${line}, column ${column}: ${reason}`);
    this.name = 'PromptTemplateError';
  }
}

/** The history as Handlebars sees it: {{history}} prints "role: content" lines, {{#each history}} loops over the turns. */
class HistoryTurns extends Array<ChatMessage> {
  override toString(): string {
    return this.map((m) => `${m.role}: ${m.content}`).join('\n');
  }
}

export interface PromptData {
  question: string;
  documents: RetrievedDoc[];
  history: ChatMessage[];
  /** The message properties the node names, by name. */
  variables?: Record<string, unknown>;
}

export interface CompiledPrompt {
  source: string;
  render(data: PromptData): string;
  /** The template in the {context}/{question} form (context: the document texts, one per line), when it can be said that way. */
  placeholderForm?: string;
  /** Why it cannot, when it cannot. */
  whyNoPlaceholderForm?: string;
  /** The template prints the history itself, so it is not sent again as chat messages. */
  usesHistory: boolean;
}

const env = Handlebars.create();
const text = (v: unknown): string => (v === undefined || v === null ? '' : isDoc(v) ? v.text : String(v));
const isDoc = (v: unknown): v is { text: string } => !!v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string';
env.registerHelper('truncate', (value: unknown, limit: unknown) => {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw new Error('truncate needs a whole number of tokens, as in {{truncate text 200}}');
  return truncateTokens(text(value), limit);
});
env.registerHelper('join', (list: unknown, ...rest: unknown[]) => {
  const separator = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : '\n';
  return Array.isArray(list) ? list.map(text).join(separator) : text(list);
});
env.registerHelper('default', (value: unknown, fallback: unknown) => (value === undefined || value === null || value === '' ? fallback : value));

const COMPILE_OPTIONS = {
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: { truncate: true, join: true, default: true },
  // Handlebars' own check: a name that is neither data nor helper prints nothing, as in any template.
  strict: false,
} as const;

/** Line and column of a parse error, from the parser's own location (its message only shows an excerpt). */
function parseErrorAt(source: string): { line: number; column: number; reason: string } {
  const parser = Object.create((Handlebars as unknown as { Parser: object }).Parser) as { parse(s: string): unknown; parseError(message: string, hash: unknown): never };
  let found = { line: 1, column: 1, reason: 'it does not parse' };
  parser.parseError = (message: string, hash: unknown) => {
    const loc = (hash as { loc?: { first_line: number; first_column: number }; expected?: string[]; token?: string }) ?? {};
    const expected = (hash as { expected?: string[] }).expected ?? [];
    const got = (hash as { token?: string }).token;
    const wanted = expected.some((e) => e.includes('CLOSE')) ? 'a closing }}' : expected.some((e) => e.includes('ENDBLOCK')) ? 'the {{/…}} that closes a block' : `one of ${expected.slice(0, 4).join(', ')}`;
    found = {
      line: loc.loc?.first_line ?? 1,
      column: (loc.loc?.first_column ?? 0) + 1,
      reason: `expected ${wanted}, found ${got === 'EOF' ? 'the end of the template' : `'${got}'`}${message.includes('\n') ? '' : ` (${message})`}`,
    };
    throw new Error(message);
  };
  try {
    parser.parse(source);
  } catch {
    // found holds the location
  }
  return found;
}

type Node = hbs.AST.Node & { loc?: hbs.AST.SourceLocation };

function walk(node: unknown, visit: (n: Node) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  const n = node as Node & Record<string, unknown>;
  if (typeof n.type === 'string') visit(n);
  for (const key of ['body', 'program', 'inverse', 'params', 'hash', 'pairs', 'value', 'path']) if (key in n && typeof n[key] === 'object') walk(n[key], visit);
}

function pathName(n: Node): string | undefined {
  return n.type === 'PathExpression' ? (n as hbs.AST.PathExpression).original : undefined;
}

/** The template said with {context} and {question}, or why it cannot be. */
function placeholderForm(program: hbs.AST.Program): { form?: string; why?: string } {
  let form = '';
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement') {
      const content = (statement as hbs.AST.ContentStatement).value;
      if (/\{(?:context|question)\}/.test(content)) return { why: 'its text contains {context} or {question} literally, which the service would fill in' };
      form += content;
    } else if (statement.type === 'CommentStatement') {
      continue;
    } else if (statement.type === 'MustacheStatement' && (statement as hbs.AST.MustacheStatement).path.type === 'StringLiteral') {
      const brace = ((statement as hbs.AST.MustacheStatement).path as hbs.AST.StringLiteral).value;
      if (brace !== '{' && brace !== '}') return { why: `it uses {{"${brace}"}}, which the service's chat_template cannot say` };
      form += brace;
    } else if (statement.type === 'MustacheStatement') {
      const m = statement as hbs.AST.MustacheStatement;
      const name = pathName(m.path as Node);
      if ((name !== 'question' && name !== 'context') || m.params.length > 0 || m.hash) {
        return { why: `it uses {{${name ?? 'an expression'}${m.params.length > 0 ? ' …' : ''}}}; the service's chat_template only has {context} (the document texts, one per line) and {question}` };
      }
      form += `{${name}}`;
    } else {
      return { why: 'it uses blocks ({{#each}}, {{#if}} …); the service\'s chat_template only has {context} and {question} in fixed text' };
    }
  }
  // The service uses a template only when its variables are {context, question} or {question} (v1.5 service.py:133-140).
  if (!form.includes('{question}')) return { why: 'it does not use {{question}}, and the service uses a chat_template only when it has {question}' };
  return { form };
}

/** Compiles a template; a PromptTemplateError says where it is wrong. */
export function compilePrompt(source: string): CompiledPrompt {
  let program: hbs.AST.Program;
  try {
    program = env.parse(source);
  } catch (err) {
    const at = err as { lineNumber?: number; column?: number; message?: string };
    if (typeof at.lineNumber === 'number') throw new PromptTemplateError(String(at.message).replace(/ - \d+:\d+$/, ''), at.lineNumber, (at.column ?? 0) + 1);
    const parsed = parseErrorAt(source);
    throw new PromptTemplateError(parsed.reason, parsed.line, parsed.column);
  }
  let usesHistory = false;
  walk(program, (n) => {
    const name = pathName(n);
    if (name === 'history') usesHistory = true;
    const call = n as hbs.AST.MustacheStatement;
    const isCall = (n.type === 'MustacheStatement' || n.type === 'BlockStatement' || n.type === 'SubExpression') && (call.params.length > 0 || !!call.hash || n.type !== 'MustacheStatement');
    const helper = isCall ? pathName(call.path as Node) : undefined;
    if (isCall && helper !== undefined && !BUILT_IN_HELPERS.includes(helper) && !(helper in PROMPT_HELPERS)) {
      throw new PromptTemplateError(`'${helper}' is not a helper here (helpers: ${[...Object.keys(PROMPT_HELPERS), ...BUILT_IN_HELPERS.slice(0, 4)].join(', ')})`, n.loc?.start.line ?? 1, (n.loc?.start.column ?? 0) + 1);
    }
    if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement' || n.type === 'DecoratorBlock' || n.type === 'Decorator') {
      throw new PromptTemplateError('partials and decorators are not available in prompt templates', n.loc?.start.line ?? 1, (n.loc?.start.column ?? 0) + 1);
    }
  });
  // Before compiling: the compiler rewrites the tree it is given.
  const { form, why } = placeholderForm(program);
  let template: HandlebarsTemplateDelegate;
  try {
    env.precompile(program, COMPILE_OPTIONS);
    template = env.compile(program, COMPILE_OPTIONS);
  } catch (err) {
    const at = err as { lineNumber?: number; column?: number; message?: string };
    throw new PromptTemplateError(String(at.message).replace(/ - \d+:\d+$/, ''), at.lineNumber ?? 1, (at.column ?? 0) + 1);
  }
  return {
    source,
    usesHistory,
    ...(form === undefined ? { whyNoPlaceholderForm: why } : { placeholderForm: form }),
    render(data: PromptData): string {
      const history = HistoryTurns.from(data.history);
      return template({
        ...data.variables,
        question: data.question,
        documents: data.documents,
        context: data.documents.map((d) => d.text).join('\n'),
        history,
        // {{"{"}} and {{"}"}} print a brace beside a mustache (core/prompts/placeholders.ts).
        '{': '{',
        '}': '}',
      });
    },
  };
}

/** "line L, column C: reason" of a template error, or the error's text. */
export function describeTemplateError(err: unknown): string {
  return err instanceof PromptTemplateError ? err.message : err instanceof Error ? err.message : String(err);
}

/** A cache of compiled templates by source, bounded so templates sent in messages cannot fill memory. */
export class PromptCache {
  private readonly entries = new Map<string, CompiledPrompt>();

  constructor(private readonly limit = 64) {}

  get(source: string): CompiledPrompt {
    const hit = this.entries.get(source);
    if (hit) {
      this.entries.delete(source);
      this.entries.set(source, hit);
      return hit;
    }
    const compiled = compilePrompt(source);
    this.entries.set(source, compiled);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
    return compiled;
  }
}
