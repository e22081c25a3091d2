/**
 * Export folders: always under the one folder EXPORTS_FOLDER of the Node-RED user directory.
 *
 * A folder named by a user, confined to a root folder (the Node-RED user directory): a relative
 * path of plain segments, never absolute, never `..`, never hidden or inside node_modules, never
 * one of Node-RED's own files or folders in the user directory, whether it exists yet or not, and
 * not leading out of the root through a symbolic link anywhere along the way.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One folder name: letters, digits, space, `.`, `_`, `-`; not starting with `.` or a space. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9 ._-]{0,127}$/;

/**
 * Folders of the user directory that Node-RED (or this pack) keeps its own things in: modules, the
 * library, nodes it loads, projects, context stores, the embedded vector store, the evaluator's kept results.
 */
const OWN_FOLDERS = new Set(['node_modules', 'lib', 'nodes', 'projects', 'context', 'opea-vectorstore', 'opea-results']);
/** Node-RED's own files there are all of these kinds: flows and credentials files, settings.js, package.json, backups. */
const OWN_FILE = /\.(json|js|cjs|mjs|backup)$/i;

/** The folder of the user directory that every export folder lies in. */
export const EXPORTS_FOLDER = 'opea-exports';
const EXPORT_FIX = `give a folder under ${EXPORTS_FOLDER} in the Node-RED user directory, such as chatqna, or leave it empty for the export's name`;

export class ConfinedPathError extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
    this.name = 'ConfinedPathError';
  }
}

/**
 * Why `relative` cannot name a folder under the root (without touching the disk), or null.
 * `reserved`: more paths relative to the root, '/'-separated, that the folder may neither be nor lie
 * in (the flows file and credentials file a Node-RED runtime is configured with).
 */
export function relativeFolderProblem(relative: string, reserved: readonly string[] = []): { message: string; fix: string } | null {
  const problem = pathProblem(relative, 'give a folder relative to the Node-RED user directory, such as opea-export/chatqna');
  if (problem) return problem;
  const segments = relative.split('/').filter((s) => s !== '');
  const top = segments[0];
  const own = reserved.find((r) => isWithin(segments, r.split('/').filter((s) => s !== '')));
  if (OWN_FOLDERS.has(top.toLowerCase()) || OWN_FILE.test(top) || own !== undefined) {
    return {
      message: `the folder '${relative}' would be${segments.length > 1 || own !== undefined ? ' inside' : ''} Node-RED's own ${own ?? top} in the user directory (Node-RED keeps its flows, credentials, settings, package.json, lib, nodes and node_modules there)`,
      fix: 'choose a folder of its own; give a folder relative to the Node-RED user directory, such as opea-export/chatqna',
    };
  }
  return null;
}

/** Why `relative` is no plain relative path of folder names, or null; `fix` says what to give instead. */
function pathProblem(relative: string, fix: string): { message: string; fix: string } | null {
  if (typeof relative !== 'string' || relative.trim() === '') return { message: 'no folder is given', fix };
  if (relative.includes('\0')) return { message: 'the folder contains a NUL character', fix };
  if (path.posix.isAbsolute(relative) || path.win32.isAbsolute(relative) || /^[A-Za-z]:/.test(relative) || relative.startsWith('~')) {
    return { message: `the folder '${relative}' is an absolute path`, fix };
  }
  if (relative.includes('\\')) return { message: `the folder '${relative}' contains '\\'`, fix: `separate folders with '/'; ${fix}` };
  const segments = relative.split('/').filter((s, i, all) => !(s === '' && i === all.length - 1));
  for (const segment of segments) {
    if (segment === '..') return { message: `the folder '${relative}' climbs out with '..'`, fix };
    if (segment === '' || segment === '.') return { message: `the folder '${relative}' has an empty or '.' part`, fix };
    if (segment.startsWith('.')) return { message: `the folder '${relative}' has a hidden part '${segment}'`, fix: `use folder names that do not start with '.'; ${fix}` };
    if (segment === 'node_modules') return { message: `the folder '${relative}' is inside node_modules, where Node-RED loads code from`, fix };
    if (!SEGMENT.test(segment)) return { message: `the folder name '${segment}' has characters other than letters, digits, space, '.', '_', '-'`, fix };
  }
  return null;
}

/**
 * The folder an exporter's `folder` setting names under EXPORTS_FOLDER, '/'-separated. A leading
 * `opea-exports/` (the same folder named from the user directory) is dropped, so a folder saved that
 * way keeps its place; '' stays '' (the caller's default).
 */
export function exportSubfolder(folder: string): string {
  const trimmed = folder.trim();
  const prefix = `${EXPORTS_FOLDER}/`;
  if (trimmed === EXPORTS_FOLDER || trimmed === prefix) return '';
  return trimmed.startsWith(prefix) ? trimmed.slice(prefix.length) : trimmed;
}

/** Why `folder` (an exporter's setting, '' allowed) cannot name a folder under EXPORTS_FOLDER, or null. */
export function exportFolderProblem(folder: string): { message: string; fix: string } | null {
  const sub = exportSubfolder(folder);
  return sub === '' ? null : pathProblem(sub, EXPORT_FIX);
}

/**
 * The absolute folder of `<userDir>/opea-exports/<sub>` (sub: exportSubfolder's answer, not empty),
 * confined as confinedFolder does, and moreover inside the real EXPORTS_FOLDER: no symbolic link along
 * the way may lead to another place of the user directory, where Node-RED's own files are.
 */
export function exportFolder(userDir: string, sub: string, reserved: readonly string[] = []): string {
  const problem = pathProblem(sub, EXPORT_FIX);
  if (problem) throw new ConfinedPathError(problem.message, problem.fix);
  const relative = `${EXPORTS_FOLDER}/${sub}`;
  const dir = confinedFolder(userDir, relative, reserved);
  if (!within(path.join(fs.realpathSync(userDir), EXPORTS_FOLDER), dir)) {
    throw new ConfinedPathError(`the folder '${relative}' leads out of ${EXPORTS_FOLDER} through a symbolic link (to ${dir})`, `export folders are written only inside the real ${EXPORTS_FOLDER} folder of the user directory: remove the link`);
  }
  return dir;
}

/** Whether the path `segments` is `prefix` or lies in it, comparing names as case-insensitive file systems do. */
function isWithin(segments: string[], prefix: string[]): boolean {
  return prefix.length > 0 && prefix.length <= segments.length && prefix.every((p, i) => p.toLowerCase() === segments[i].toLowerCase());
}

function within(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}

/**
 * The absolute folder `relative` names under `root`, after checking that neither the folder (when
 * it exists) nor its deepest existing ancestor resolves outside the root through a symbolic link.
 * `reserved` as for relativeFolderProblem. Throws ConfinedPathError with what is wrong and how to fix it.
 */
export function confinedFolder(root: string, relative: string, reserved: readonly string[] = []): string {
  const problem = relativeFolderProblem(relative, reserved);
  if (problem) throw new ConfinedPathError(problem.message, problem.fix);
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch (err) {
    throw new ConfinedPathError(`the user directory ${root} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check that Node-RED runs with its user directory in place');
  }
  const target = path.join(realRoot, ...relative.split('/').filter((s) => s !== ''));
  // The deepest part of the path that exists decides where the rest will be created.
  let existing = target;
  while (!fs.existsSync(existing) && !isDanglingLink(existing)) existing = path.dirname(existing);
  let resolved: string;
  try {
    resolved = fs.realpathSync(existing);
  } catch {
    throw new ConfinedPathError(`the folder '${relative}' passes through a broken symbolic link (${existing})`, 'remove the link or choose another folder');
  }
  if (!within(realRoot, resolved)) {
    throw new ConfinedPathError(`the folder '${relative}' leads out of the user directory through a symbolic link (${existing} -> ${resolved})`, 'choose a folder that is not (inside) a link to elsewhere');
  }
  if (!fs.statSync(resolved).isDirectory()) {
    throw new ConfinedPathError(`'${path.relative(realRoot, existing)}' exists in the user directory and is not a folder`, 'choose another folder');
  }
  return path.join(resolved, path.relative(existing, target));
}

function isDanglingLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
