import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfinedPathError, confinedFolder, relativeFolderProblem } from '../../exporters/confined-path';

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
