import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfinedPathError, confinedFolder, exportFolder, exportFolderProblem, exportSubfolder, relativeFolderProblem } from '../../exporters/confined-path';
import { nodeRedFiles } from '../../nodes/opea-exporter/export-job';

describe('folders confined to the user directory (exporters/confined-path)', () => {
  let root = '';
  let outside = '';
  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'opea-confine-root-')));
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'opea-confine-out-')));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('accepts plain relative folders, existing or not, and returns them under the root', () => {
    assert.equal(confinedFolder(root, 'opea-export'), path.join(root, 'opea-export'));
    assert.equal(confinedFolder(root, 'exports/chat qna/v1.2/'), path.join(root, 'exports', 'chat qna', 'v1.2'));
    fs.mkdirSync(path.join(root, 'there'));
    assert.equal(confinedFolder(root, 'there'), path.join(root, 'there'));
  });

  it('accepts names like Node-RED\'s own files below the top of the user directory', () => {
    for (const ok of ['opea-export/flows.json', 'exports/lib', 'my-nodes', 'flows']) assert.equal(relativeFolderProblem(ok), null, ok);
  });

  it('refuses the flows and credentials files a runtime is configured with, and what lies in them', () => {
    const reserved = ['my-flows', 'pipelines/main.json'];
    assert.match(relativeFolderProblem('my-flows', reserved)?.message ?? 'accepted', /would be inside Node-RED's own my-flows/);
    assert.match(relativeFolderProblem('MY-FLOWS/x', reserved)?.message ?? 'accepted', /own my-flows/);
    assert.match(relativeFolderProblem('pipelines/main.json', reserved)?.message ?? 'accepted', /own pipelines\/main\.json/);
    assert.equal(relativeFolderProblem('pipelines/other', reserved), null);
    assert.equal(relativeFolderProblem('my-flows-export', reserved), null);
    assert.throws(() => confinedFolder(root, 'my-flows', reserved), (err: unknown) => err instanceof ConfinedPathError && /own my-flows/.test(err.message));
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('follows a symbolic link that stays inside the root', () => {
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync(path.join(root, 'real'), path.join(root, 'alias'), 'dir');
    assert.equal(confinedFolder(root, 'alias/new'), path.join(root, 'real', 'new'));
  });

  const refused: [string, RegExp][] = [
    ['', /no folder is given/],
    ['   ', /no folder is given/],
    ['../x', /climbs out with '\.\.'/],
    ['a/../../x', /climbs out/],
    ['/abs', /absolute path/],
    ['/etc/passwd', /absolute path/],
    ['C:\\temp', /absolute path/],
    ['c:temp', /absolute path/],
    ['~/x', /absolute path/],
    ['a\\b', /contains '\\'/],
    ['a//b', /empty or '\.' part/],
    ['./a', /empty or '\.' part/],
    ['.node-red', /hidden part/],
    ['x/.ssh', /hidden part/],
    ['node_modules/evil', /inside node_modules/],
    ['a\0b', /NUL/],
    ['semi;colon', /characters other than/],
    ['flows.json', /would be Node-RED's own flows\.json in the user directory/],
    ['Flows.JSON', /own Flows\.JSON/],
    ['flows_cred.json', /own flows_cred\.json/],
    ['flows_myhost.json/x', /would be inside Node-RED's own flows_myhost\.json/],
    ['settings.js', /own settings\.js/],
    ['package.json', /own package\.json/],
    ['lib', /own lib/],
    ['lib/flows', /inside Node-RED's own lib/],
    ['nodes/x', /own nodes/],
    ['Projects/p', /own Projects/],
    ['context', /own context/],
    ['opea-vectorstore/store', /own opea-vectorstore/],
    ['opea-results', /own opea-results/],
  ];
  for (const [relative, why] of refused) {
    it(`refuses ${JSON.stringify(relative)} without touching the disk`, () => {
      assert.match(relativeFolderProblem(relative)?.message ?? 'accepted', why);
      assert.throws(() => confinedFolder(root, relative), (err: unknown) => err instanceof ConfinedPathError && why.test(err.message) && err.fix.length > 0);
    });
  }

  it('refuses a folder that is a symbolic link pointing outside the root', () => {
    fs.symlinkSync(outside, path.join(root, 'escape'), 'dir');
    assert.throws(() => confinedFolder(root, 'escape'), /leads out of the user directory through a symbolic link/);
    assert.throws(() => confinedFolder(root, 'escape/deeper/still'), /leads out of the user directory/);
  });

  it('refuses a folder below a linked ancestor that points outside', () => {
    fs.mkdirSync(path.join(root, 'a'));
    fs.symlinkSync(outside, path.join(root, 'a', 'b'), 'dir');
    assert.throws(() => confinedFolder(root, 'a/b/c'), /leads out/);
  });

  it('refuses a dangling link and a path through a file', () => {
    fs.symlinkSync(path.join(outside, 'missing'), path.join(root, 'dangling'));
    assert.throws(() => confinedFolder(root, 'dangling/x'), /broken symbolic link/);
    fs.writeFileSync(path.join(root, 'file'), 'x');
    assert.throws(() => confinedFolder(root, 'file/x'), /is not a folder/);
  });
});

describe('export folders: always inside <userDir>/opea-exports', () => {
  let root = '';
  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'opea-exports-root-')));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads a folder as one under opea-exports; opea-exports/<x> (saved from the user directory) is the same place', () => {
    assert.equal(exportSubfolder('chatqna'), 'chatqna');
    assert.equal(exportSubfolder(' exports/chatqna '), 'exports/chatqna');
    assert.equal(exportSubfolder('opea-exports/chatqna'), 'chatqna');
    assert.equal(exportSubfolder('opea-exports'), '');
    assert.equal(exportSubfolder(''), '');
    assert.equal(exportFolder(root, 'exports/chatqna'), path.join(root, 'opea-exports', 'exports', 'chatqna'));
    assert.equal(exportFolder(root, 'flows.json'), path.join(root, 'opea-exports', 'flows.json'), "a name of Node-RED's files is only a folder name there");
    assert.deepEqual(fs.readdirSync(root), [], 'nothing is created before writing');
  });

  it('checks the folder the user gave, in its words', () => {
    assert.equal(exportFolderProblem(''), null);
    assert.equal(exportFolderProblem('opea-exports/v2/chatqna'), null);
    assert.match(exportFolderProblem('../flows.json')?.message ?? 'accepted', /the folder '\.\.\/flows\.json' climbs out with '\.\.'/);
    assert.match(exportFolderProblem('/etc')?.fix ?? '', /under opea-exports in the Node-RED user directory/);
  });

  it('refuses a link inside opea-exports that leads back into the user directory, or opea-exports itself linked there', () => {
    fs.mkdirSync(path.join(root, 'opea-exports'));
    fs.symlinkSync(root, path.join(root, 'opea-exports', 'home'), 'dir');
    assert.throws(() => exportFolder(root, 'home/flows.json'), (err: unknown) => err instanceof ConfinedPathError && /leads out of opea-exports through a symbolic link/.test(err.message));
    fs.rmSync(path.join(root, 'opea-exports'), { recursive: true });
    fs.mkdirSync(path.join(root, 'lib'));
    fs.symlinkSync(path.join(root, 'lib'), path.join(root, 'opea-exports'), 'dir');
    assert.throws(() => exportFolder(root, 'chatqna'), /leads out of opea-exports/);
  });

  it('refuses the runtime\'s flows file when it lies in opea-exports', () => {
    assert.throws(() => exportFolder(root, 'my-flows', ['opea-exports/my-flows']), /own opea-exports\/my-flows/);
  });
});

describe('nodeRedFiles: the flows and credentials files of a runtime, relative to its user directory', () => {
  it('names them as Node-RED\'s file storage does', () => {
    assert.deepEqual(nodeRedFiles({ userDir: '/home/u/.node-red' }), ['flows.json', 'flows_cred.json']);
    assert.deepEqual(nodeRedFiles({ userDir: '/home/u/.node-red', flowFile: 'my-flows' }), ['my-flows', 'my-flows_cred']);
    assert.deepEqual(nodeRedFiles({ userDir: '/home/u/.node-red', flowFile: 'pipelines/main.json' }), ['pipelines/main.json', 'main_cred.json']);
    assert.deepEqual(nodeRedFiles({ userDir: '/home/u/.node-red', flowFile: '/srv/flows/f.json' }), ['f_cred.json'], 'a flows file elsewhere cannot be an export folder');
  });
});
