/** Reading an exported bundle back: the entries of a zip (by Python's zipfile, an independent reader) and the files of a folder. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const READ_ZIP = 'import sys, json, zipfile, io\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode("utf-8") for n in z.namelist()}))';

/** Every entry of a zip (its bytes, or the path of a zip file) as text. */
export function unzip(zip: Buffer | string): Record<string, string> {
  const input = typeof zip === 'string' ? fs.readFileSync(zip) : zip;
  return JSON.parse(execFileSync('python3', ['-c', READ_ZIP], { input, maxBuffer: 64 * 1024 * 1024 }).toString('utf8'));
}

/** Every file under `dir`, by its path relative to it with '/' separators. */
export function readTree(dir: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, readTree(path.join(dir, entry.name), rel));
    else files[rel] = fs.readFileSync(path.join(dir, entry.name), 'utf8');
  }
  return files;
}
