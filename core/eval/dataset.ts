/**
 * Evaluation rows from JSON (an array), JSONL (one object a line) or CSV (RFC 4180, a header row,
 * list columns written as JSON arrays). Every problem names the row (and for text, the line) it is in.
 */

export interface EvalRow {
  /** The dataset's own id of the row, carried to its result. */
  id?: string | number;
  question: string;
  answer?: string;
  /** Retrieved contexts, best first. */
  contexts?: string[];
  /** One or more reference answers (`reference` given as a string or a list). */
  references: string[];
  /** The contexts that should have been retrieved. */
  referenceContexts?: string[];
}

export type DatasetFormat = 'json' | 'jsonl' | 'csv';

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

const FIELDS = ['id', 'question', 'answer', 'contexts', 'reference', 'reference_contexts'];

/** Names other evaluation datasets give these fields (RAGAS 0.2+, RAGAS 0.1, common variants). */
const ALIASES: Record<string, string> = {
  user_input: 'question',
  query: 'question',
  response: 'answer',
  retrieved_contexts: 'contexts',
  ground_truth: 'reference',
  ground_truths: 'reference',
  expected_answer: 'reference',
  reference_answer: 'reference',
  ground_truth_contexts: 'reference_contexts',
};

/**
 * Unknown keys are refused, not skipped: a misspelt `reference` would otherwise leave every row
 * unscored (NaN) without a word. The message names each unknown key, the field another tool's name
 * stands for, and the accepted fields.
 */
function unknownFieldsProblem(keys: string[], what: 'field' | 'column'): string | null {
  const unknown = keys.filter((k) => !FIELDS.includes(k));
  if (unknown.length === 0) return null;
  const renames = unknown.filter((k) => Object.prototype.hasOwnProperty.call(ALIASES, k)).map((k) => `${k} is called ${ALIASES[k]} here`);
  return `unknown ${what}${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (expected ${FIELDS.join(', ')})${renames.length ? `; ${renames.join(', ')}` : ''}`;
}

function stringList(value: unknown, field: string, where: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new DatasetError(`${where}: ${field} must be a list of strings`);
}

/** One row from a parsed object; `where` says which row for the error message. */
export function rowFromObject(value: unknown, where: string): EvalRow {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DatasetError(`${where}: expected an object with a question`);
  const o = value as Record<string, unknown>;
  const unknown = unknownFieldsProblem(Object.keys(o), 'field');
  if (unknown) throw new DatasetError(`${where}: ${unknown}`);
  if (typeof o.question !== 'string' || o.question.trim() === '') throw new DatasetError(`${where}: question is missing or not text`);
  if (o.answer !== undefined && o.answer !== null && typeof o.answer !== 'string') throw new DatasetError(`${where}: answer must be text`);
  const present = (v: unknown) => v !== undefined && v !== null;
  if (present(o.id) && typeof o.id !== 'string' && !(typeof o.id === 'number' && Number.isFinite(o.id))) throw new DatasetError(`${where}: id must be text or a number`);
  return {
    ...(present(o.id) ? { id: o.id as string | number } : {}),
    question: o.question,
    ...(present(o.answer) ? { answer: o.answer as string } : {}),
    ...(present(o.contexts) ? { contexts: stringList(o.contexts, 'contexts', where) } : {}),
    references: present(o.reference) ? stringList(o.reference, 'reference', where) : [],
    ...(present(o.reference_contexts) ? { referenceContexts: stringList(o.reference_contexts, 'reference_contexts', where) } : {}),
  };
}

export function rowsFromArray(value: unknown): EvalRow[] {
  if (!Array.isArray(value)) throw new DatasetError('the dataset must be an array of rows {question, answer?, contexts?, reference?, reference_contexts?}');
  if (value.length === 0) throw new DatasetError('the dataset has no rows');
  return value.map((v, i) => rowFromObject(v, `row ${i + 1}`));
}

function parseJson(text: string): EvalRow[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`the dataset is not valid JSON (${(err as Error).message})`);
  }
  return rowsFromArray(value);
}

function parseJsonl(text: string): EvalRow[] {
  const rows: EvalRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `row ${rows.length + 1} (line ${i + 1})`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new DatasetError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    rows.push(rowFromObject(value, where));
  });
  if (rows.length === 0) throw new DatasetError('the dataset has no rows');
  return rows;
}

interface CsvRecord {
  fields: string[];
  line: number;
}

/** RFC 4180 records: quoted fields may hold commas, line breaks and doubled quotes. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      const start = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new DatasetError(`line ${start}: a quoted field is not closed`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] === '\n') line++;
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new DatasetError(`line ${line}: text after a closing quote (double a quote inside a quoted field: "")`);
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      if (c === '"') throw new DatasetError(`line ${line}: a quote inside an unquoted field (quote the whole field and double the quote)`);
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

const LIST_COLUMNS = new Set(['contexts', 'reference_contexts']);

function csvCell(column: string, cell: string, where: string): unknown {
  if (cell === '') return undefined;
  const isList = LIST_COLUMNS.has(column) || (column === 'reference' && cell.trimStart().startsWith('['));
  if (!isList) return cell;
  try {
    return JSON.parse(cell);
  } catch {
    throw new DatasetError(`${where}: ${column} must be a JSON array of strings, as ["first", "second"]`);
  }
}

function parseCsv(text: string): EvalRow[] {
  const [header, ...records] = parseCsvRecords(text);
  if (!header) throw new DatasetError('the CSV file is empty');
  const columns = header.fields.map((f) => f.trim());
  const unknown = unknownFieldsProblem(columns, 'column');
  if (unknown) throw new DatasetError(`the CSV header (line ${header.line}): ${unknown}`);
  if (!columns.includes('question')) throw new DatasetError('the CSV header has no question column');
  if (records.length === 0) throw new DatasetError('the dataset has no rows');
  return records.map((record, r) => {
    const where = `row ${r + 1} (line ${record.line})`;
    if (record.fields.length !== columns.length) throw new DatasetError(`${where}: ${record.fields.length} fields where the header has ${columns.length}`);
    const object: Record<string, unknown> = {};
    columns.forEach((column, c) => (object[column] = csvCell(column, record.fields[c], where)));
    return rowFromObject(object, where);
  });
}

export function formatOfFile(file: string): DatasetFormat | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.json')) return 'json';
  return null;
}

export function parseDataset(text: string, format: DatasetFormat): EvalRow[] {
  if (format === 'csv') return parseCsv(text);
  if (format === 'jsonl') return parseJsonl(text);
  return parseJson(text);
}
