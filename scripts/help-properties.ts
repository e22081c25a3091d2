/**
 * Help property lists that render in the editor. Node-RED's markdown help reads a property only when
 * `: name (type) : description` sits on one line and the description holds no colon
 * (@node-red/editor-client red.js, the `descriptionList`/`description` marked extensions); ours wrap
 * over several lines and quote JSON, so the editor showed them as literal text. At build time each
 * run of entries becomes the `<dl class="message-properties">` the style guide's HTML form uses, its
 * inline markdown rendered by marked 4.3 (the version Node-RED 4.1's editor bundles).
 */
import { marked } from 'marked';

const ENTRY = /^: (.+?) \(([^)]*)\) : ?(.*)$/;
const CONTINUATION = /^ {2,}\S/;

const inline = (text: string) => marked.parseInline(text.trim());

function renderEntries(entries: { name: string; type: string; text: string }[]): string {
  const items = entries.map((e) => `<dt>${inline(e.name)}<span class="property-type">${inline(e.type)}</span></dt>\n<dd>${inline(e.text)}</dd>`);
  return `<dl class="message-properties">\n${items.join('\n')}\n</dl>`;
}

/** Markdown help with every `: name (type) :` entry (and its indented continuation lines) as an HTML list. */
export function helpWithPropertyLists(markdown: string): string {
  const out: string[] = [];
  let entries: { name: string; type: string; text: string }[] = [];
  const flush = () => {
    if (entries.length === 0) return;
    // marked ends an HTML block at a blank line, so the list is kept apart from what follows.
    out.push(renderEntries(entries), '');
    entries = [];
  };
  for (const line of markdown.split('\n')) {
    const entry = ENTRY.exec(line);
    if (entry) {
      entries.push({ name: entry[1], type: entry[2], text: entry[3] });
    } else if (entries.length > 0 && CONTINUATION.test(line)) {
      entries[entries.length - 1].text += ` ${line.trim()}`;
    } else {
      flush();
      if (line.trim() !== '' || out[out.length - 1] !== '') out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

/** The same for a hand-written editor file: only its markdown help script changes. */
export function editorFileWithPropertyLists(html: string): string {
  return html.replace(/(<script type="text\/markdown" data-help-name="[^"]+">)([\s\S]*?)(<\/script>)/g, (_all, open: string, body: string, close: string) => `${open}${helpWithPropertyLists(body)}${close}`);
}
