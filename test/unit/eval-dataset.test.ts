import assert from 'node:assert/strict';
import { formatOfFile, parseDataset, rowsFromArray } from '../../core/eval/dataset';

describe('eval: datasets', () => {
  it('reads JSON arrays; reference as a string or a list', () => {
    const rows = parseDataset(JSON.stringify([{ question: 'q1', answer: 'a', contexts: ['c1', 'c2'], reference: 'r', reference_contexts: ['c1'] }, { question: 'q2', reference: ['r1', 'r2'] }]), 'json');
    assert.deepEqual(rows, [
      { question: 'q1', answer: 'a', contexts: ['c1', 'c2'], references: ['r'], referenceContexts: ['c1'] },
      { question: 'q2', references: ['r1', 'r2'] },
    ]);
  });

  it('reads JSONL, skipping blank lines, and names the row and line of a problem', () => {
    assert.equal(parseDataset('{"question":"a"}\n\n{"question":"b"}\n', 'jsonl').length, 2);
    assert.throws(() => parseDataset('{"question":"a"}\n\n{"question":', 'jsonl'), /row 2 \(line 3\): not valid JSON/);
    assert.throws(() => parseDataset('{"question":"a"}\n{"answer":"b"}', 'jsonl'), /row 2 \(line 2\): question is missing/);
  });

  it('reads RFC 4180 CSV: quoted commas, line breaks, doubled quotes, CRLF, JSON list columns', () => {
    const csv = [
      'question,answer,contexts,reference',
      '"Where, exactly?","In ""Paris""\r\nmostly","[""Paris is in France."", ""x""]",Paris',
      'Plain,,,"[""r1"",""r2""]"',
      '',
    ].join('\r\n');
    assert.deepEqual(parseDataset(csv, 'csv'), [
      { question: 'Where, exactly?', answer: 'In "Paris"\r\nmostly', contexts: ['Paris is in France.', 'x'], references: ['Paris'] },
      { question: 'Plain', references: ['r1', 'r2'] },
    ]);
  });

  it('names the CSV row and line of a problem', () => {
    assert.throws(() => parseDataset('question,contexts\n"a\nb",c\n', 'csv'), /row 1 \(line 2\): contexts must be a JSON array/);
    assert.throws(() => parseDataset('question,answer\nq1,a\nq2\n', 'csv'), /row 2 \(line 3\): 1 fields where the header has 2/);
    assert.throws(() => parseDataset('question\n"open', 'csv'), /line 2: a quoted field is not closed/);
    assert.throws(() => parseDataset('question\n"a"b', 'csv'), /line 2: text after a closing quote/);
    assert.throws(() => parseDataset('answer\nx', 'csv'), /no question column/);
    assert.throws(() => parseDataset('question,ground_truth,notes\nq,a,b\n', 'csv'), /^DatasetError: the CSV header \(line 1\): unknown columns ground_truth, notes \(expected id, question, answer, contexts, reference, reference_contexts\); ground_truth is called reference here$/);
  });

  it('refuses non-arrays, empty sets, unknown fields and wrong types', () => {
    assert.throws(() => rowsFromArray({ question: 'q' }), /must be an array/);
    assert.throws(() => rowsFromArray([]), /no rows/);
    assert.throws(() => rowsFromArray([{ question: 'q', ground_truth: 'x' }]), /row 1: unknown field ground_truth \(expected id, question/);
    // Keys of other tools' datasets (RAGAS) are named with the field they stand for.
    assert.throws(() => rowsFromArray([{ user_input: 'q', response: 'a', refrence: 'x' }]), /^DatasetError: row 1: unknown fields user_input, response, refrence \(expected id, question, answer, contexts, reference, reference_contexts\); user_input is called question here, response is called answer here$/);
    assert.throws(() => rowsFromArray([{ id: { n: 1 }, question: 'q' }]), /row 1: id must be text or a number/);
    assert.deepEqual(rowsFromArray([{ id: 'q-7', question: 'q' }, { id: 8, question: 'r' }]).map((r) => r.id), ['q-7', 8]);
    assert.throws(() => rowsFromArray([{ question: 'q' }, { question: 'q', contexts: [1] }]), /row 2: contexts must be a list of strings/);
    assert.throws(() => parseDataset('[{"question": "q"', 'json'), /not valid JSON/);
  });

  it('picks the format from the file name', () => {
    assert.equal(formatOfFile('set.JSONL'), 'jsonl');
    assert.equal(formatOfFile('set.csv'), 'csv');
    assert.equal(formatOfFile('set.json'), 'json');
    assert.equal(formatOfFile('set.txt'), null);
  });
});
