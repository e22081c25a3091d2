/**
 * The template form before Handlebars: {context} and {question} in text, filled in one pass, the
 * question appended when the template does not place it (core/contract/documents.ts renderPrompt).
 * Said in Handlebars so a flow saved with it renders the very same prompt.
 */

/** Mustaches that print a brace: the render data has "{" and "}" (core/prompts/template.ts). */
export const BRACE_MUSTACHES = { '{': '{{"{"}}', '}': '{{"}"}}' } as const;

/**
 * Text Handlebars prints as it is. Handlebars reads `\{{` as a literal `{{` and, before a mustache,
 * drops one backslash of a trailing `\\`; so a backslash run before a mustache gets one more, and a
 * literal `{{` after a backslash is set apart by an empty comment.
 */
function literal(text: string, beforeMustache: boolean): string {
  let out = '';
  let rest = text;
  for (let at = rest.indexOf('{{'); at !== -1; at = rest.indexOf('{{')) {
    const before = rest.slice(0, at);
    out += /\\$/.test(before) ? `${before}\\{{!}}\\{{` : `${before}\\{{`;
    rest = rest.slice(at + 2);
  }
  return out + rest + (beforeMustache && /\\$/.test(rest) ? '\\' : '');
}

/** A {context}/{question} template as the Handlebars template that renders the same prompt. */
export function handlebarsFromPlaceholders(template: string): string {
  const parts = template.split(/\{(context|question)\}/);
  let out = '';
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i + 1];
    let text = parts[i];
    // A brace next to a mustache would make it a {{{triple}}} one, so it is printed by a mustache too.
    const opening = name === undefined ? '' : (/\{*$/.exec(text)?.[0] ?? '');
    const closing = i === 0 ? '' : (/^\}*/.exec(text)?.[0] ?? '');
    text = text.slice(closing.length, text.length - opening.length);
    const braces = (run: string, brace: '{' | '}') => BRACE_MUSTACHES[brace].repeat(run.length);
    out += braces(closing, '}') + literal(text, name !== undefined) + braces(opening, '{') + (name === undefined ? '' : `{{${name}}}`);
  }
  return template.includes('{question}') ? out : `${out}\n{{question}}`;
}
