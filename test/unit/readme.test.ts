import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { allBackends } from '../../core/catalog';
import { COMMON_PROPERTIES, NODE_TYPES } from '../../core/node-types';
import { REPO_ROOT } from '../support/reference';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every flow-JSON property of every node type', () => {
    for (const p of COMMON_PROPERTIES) assert.ok(readme.includes(`| \`${p.key}\` |`), p.key);
    for (const t of NODE_TYPES) {
      assert.ok(readme.includes(`\`${t.type}\``), t.type);
      for (const p of t.params) assert.ok(readme.includes(`| \`${p.key}\` | ${typeof p.default === 'string' ? `\`${p.default}\`` : p.default} |`), `${t.type}.${p.key}`);
    }
  });

  it('lists every backend of the catalog', () => {
    for (const b of allBackends()) assert.ok(readme.includes(`| ${b.kind} | \`${b.backend}\` |`), `${b.kind}/${b.backend}`);
  });

  it('gives the install-and-run and test commands that CI runs', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /^npm test\b/m);
    assert.match(fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8'), /^npm test 2>&1/m);
  });
});
