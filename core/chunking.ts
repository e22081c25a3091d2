/**
 * Splits documents into overlapping chunks for ingest, as OPEA dataprep does (chunk_size 1500,
 * chunk_overlap 100 by default): recursively at the largest natural boundary that fits — Markdown
 * headings, blank lines, line breaks, sentence ends, spaces — then merged up to the size, each chunk
 * starting with up to `overlap` characters of the one before. Once a document is split at a heading,
 * that heading starts a new chunk: sections are merged and overlapped each on their own.
 */
export type DocumentFormat = 'text' | 'markdown' | 'html';

const TEXT_SEPARATORS = ['\n\n', '\n', '. ', ' ', ''];
const HEADING_SEPARATORS = ['\n# ', '\n## ', '\n### ', '\n#### '];
const MARKDOWN_SEPARATORS = [...HEADING_SEPARATORS, '\n```', ...TEXT_SEPARATORS];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Visible text of an HTML document: scripts, styles and tags dropped, blocks on their own lines. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/?(p|div|section|article|header|footer|li|ul|ol|tr|table|h[1-6]|pre|blockquote)\b[^>]*>/gi, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
      if (code[0] === '#') {
        const n = code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
        return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
      }
      return ENTITIES[code.toLowerCase()] ?? whole;
    })
    .replace(/[ \t\f\v\r]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Guesses the format from a file name, else from the content. */
export function detectDocumentFormat(text: string, fileName = ''): DocumentFormat {
  if (/\.(html?|xhtml)$/i.test(fileName)) return 'html';
  if (/\.(md|markdown)$/i.test(fileName)) return 'markdown';
  if (/\.(txt|text)$/i.test(fileName)) return 'text';
  if (/^\s*(<!doctype html|<html\b)/i.test(text)) return 'html';
  if (/^#{1,6} \S/m.test(text)) return 'markdown';
  return 'text';
}

function splitKeeping(text: string, separator: string): string[] {
  if (separator === '') return [...text];
  const parts = text.split(separator);
  // Each separator stays with the piece before it (headings: with the piece after), so joining restores the text.
  const headingLike = separator.startsWith('\n#') || separator === '\n```';
  return parts.map((part, i) => {
    if (headingLike) return i === 0 ? part : separator + part;
    return i < parts.length - 1 ? part + separator : part;
  }).filter((p) => p !== '');
}

/** Pieces of at most `size` characters, grouped by section: a split at a heading starts a new group. */
function sections(text: string, size: number, separators: string[]): string[][] {
  if (text.length <= size) return [[text]];
  const index = separators.findIndex((s) => s === '' || text.includes(s));
  const separator = separators[index];
  const rest = separators.slice(index + 1);
  const split = (part: string) => (part.length <= size ? [[part]] : sections(part, size, rest));
  const parts = splitKeeping(text, separator);
  if (HEADING_SEPARATORS.includes(separator)) return parts.flatMap(split);
  return [parts.flatMap((part) => split(part).flat())];
}

/** Joins consecutive pieces into chunks of at most `size`, each starting with up to `overlap` of the one before. */
function merge(parts: string[], size: number, overlap: number): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const part of parts) {
    if (length + part.length > size && current.length > 0) {
      chunks.push(current.join(''));
      // Keep trailing pieces as overlap while they fit beside the next piece.
      while (current.length > 0 && (length > overlap || length + part.length > size)) {
        length -= current[0].length;
        current.shift();
      }
    }
    current.push(part);
    length += part.length;
  }
  if (current.length > 0) chunks.push(current.join(''));
  return chunks;
}

export function chunkText(text: string, size: number, overlap: number, format: DocumentFormat = 'text'): string[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('chunk size must be a whole number of at least 1');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) throw new RangeError('chunk overlap must be a whole number from 0 to less than the chunk size');
  const clean = (format === 'html' ? htmlToText(text) : text).replace(/\r\n?/g, '\n');
  if (clean.trim() === '') return [];
  return sections(clean, size, format === 'markdown' ? MARKDOWN_SEPARATORS : TEXT_SEPARATORS)
    .flatMap((parts) => merge(parts, size, overlap))
    .map((c) => c.trim())
    .filter((c) => c !== '');
}
