import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { crc32, zipBundle } from '../../exporters/zip';
import { exampleFlow } from '../support/reference';

/** Reads every entry of a zip with Python's zipfile (a real, independent reader): {name: text}. */
function pythonUnzip(zip: Buffer): Record<string, string> {
  const script = [
    'import sys, json, zipfile, io',
    'z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))',
    'bad = z.testzip()',
    'assert bad is None, bad',
    'print(json.dumps({i.filename: [z.read(i).decode("utf-8"), i.flag_bits, i.compress_type, list(i.date_time), i.external_attr >> 16] for i in z.infolist()}))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', script], { input: zip, maxBuffer: 64 * 1024 * 1024 });
  const entries = JSON.parse(out.toString('utf8')) as Record<string, [string, number, number, number[], number]>;
  for (const [name, [, flags, , date, mode]] of Object.entries(entries)) {
    assert.equal(flags & 0x800, 0x800, `${name}: UTF-8 flag`);
    assert.deepEqual(date, [1980, 1, 1, 0, 0, 0], `${name}: fixed timestamp`);
    assert.equal(mode, 0o100644, `${name}: file mode`);
  }
  return Object.fromEntries(Object.entries(entries).map(([name, [text]]) => [name, text]));
}

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('zip writer (exporters/zip)', () => {
  it('computes CRC-32 as zlib does', () => {
    for (const text of ['', 'a', 'The quick brown fox jumps over the lazy dog', 'ü€😀'.repeat(100)]) {
      const data = Buffer.from(text, 'utf8');
      assert.equal(crc32(data), zlib.crc32 ? zlib.crc32(data) : crc32(data));
    }
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('writes an archive that Python zipfile reads back entry for entry: deflated, stored, UTF-8 names, empty files', () => {
    const bundle = {
      'gmc/chatqna.yaml': 'apiVersion: gmc.opea.io/v1alpha3\n'.repeat(50),
      'compose/.env.example': 'HF_TOKEN=\n',
      'ansible/roles/x/files/ä ö/ü€.txt': 'grüße — 😀\n',
      'empty.txt': '',
      'z': 'x',
    };
    const zip = zipBundle(bundle);
    assert.deepEqual(pythonUnzip(zip), bundle);
    // python -m zipfile -t is the check the command line offers.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-zip-'));
    try {
      fs.writeFileSync(path.join(dir, 'b.zip'), zip);
      const tested = execFileSync('python3', ['-m', 'zipfile', '-t', path.join(dir, 'b.zip')]).toString();
      assert.match(tested, /Done testing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zips an exported bundle that Debian unzip extracts to the same files', function () {
    if (!hasUnzip()) this.skip();
    const { pipeline, problems } = loadPipeline(exampleFlow('chatqna.json'));
    assert.ok(problems.empty);
    const exportProblems = new ProblemList();
    const bundle = exportPipeline(pipeline, ['gmc', 'compose', 'ansible'], { platform: 'xeon' }, exportProblems);
    assert.ok(bundle && exportProblems.empty);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-unzip-'));
    try {
      fs.writeFileSync(path.join(dir, 'bundle.zip'), zipBundle(bundle));
      execFileSync('unzip', ['-q', path.join(dir, 'bundle.zip'), '-d', path.join(dir, 'out')]);
      const listing = execFileSync('unzip', ['-Z1', path.join(dir, 'bundle.zip')]).toString().trim().split('\n');
      assert.deepEqual(listing, Object.keys(bundle).sort());
      for (const [file, text] of Object.entries(bundle)) assert.equal(fs.readFileSync(path.join(dir, 'out', file), 'utf8'), text, file);
      assert.deepEqual(pythonUnzip(zipBundle(bundle)), bundle);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic: the same bundle gives the same bytes, whatever the key order', () => {
    const a = zipBundle({ 'b/x.txt': 'one', 'a.txt': 'two'.repeat(100) });
    const b = zipBundle({ 'a.txt': 'two'.repeat(100), 'b/x.txt': 'one' });
    assert.ok(a.equals(b));
    assert.equal(a.readUInt32LE(0), 0x04034b50);
    assert.equal(a.readUInt32LE(a.length - 22), 0x06054b50);
  });

  it('an empty bundle is an empty, valid archive', () => {
    const zip = zipBundle({});
    assert.equal(zip.length, 22);
    assert.deepEqual(pythonUnzip(zip), {});
  });

  it('refuses entry names that are not plain relative paths', () => {
    for (const bad of ['/abs.txt', '../up.txt', 'a/../b.txt', 'a\\b.txt', 'a//b', './a', '']) {
      assert.throws(() => zipBundle({ [bad]: 'x' }), /not a plain relative path/, bad);
    }
  });
});
