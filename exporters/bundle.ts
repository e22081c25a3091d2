/** A Bundle is the exporters' output in memory: relative path -> file text. Writing it is atomic. */
import fs from 'node:fs';
import path from 'node:path';

export type Bundle = Record<string, string>;

function checkedPath(rel: string): string {
  const normal = path.posix.normalize(rel);
  if (rel === '' || path.posix.isAbsolute(rel) || normal.startsWith('..') || normal !== rel || rel.includes('\\')) {
    throw new Error(`bundle path '${rel}' is not a plain relative path`);
  }
  return normal;
}

/**
 * Writes every file under `outDir`, replacing each top-level folder of the bundle (e.g. `gmc/`) as a
 * whole: files go to a temporary folder first and are renamed into place only when all are written,
 * so a failure leaves the previous export untouched and nothing half-written.
 */
export function writeBundle(outDir: string, bundle: Bundle): string[] {
  const files = Object.keys(bundle).map(checkedPath).sort();
  const tops = [...new Set(files.map((f) => f.split('/')[0]))];
  fs.mkdirSync(outDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(outDir, '.opea-flow-'));
  try {
    for (const file of files) {
      const target = path.join(staging, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, bundle[file]);
    }
    for (const top of tops) {
      const finalPath = path.join(outDir, top);
      const old = path.join(staging, `.previous-${top}`);
      if (fs.existsSync(finalPath)) fs.renameSync(finalPath, old);
      fs.renameSync(path.join(staging, top), finalPath);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return files.map((f) => path.join(outDir, f));
}
