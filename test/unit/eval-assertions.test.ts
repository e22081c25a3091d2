import assert from 'node:assert/strict';
import { compileAssertions } from '../../core/eval/assertions';

describe('eval: assertions', () => {
  const [contains, notContains, regex, schema] = compileAssertions([
    { type: 'contains', value: 'paris', ignoreCase: true },
    { type: 'not-contains', value: 'I do not know' },
    { type: 'regex', pattern: '^\\d{4}$' },
    { type: 'json-schema', name: 'city', schema: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } } },
  ]);

  it('contains / not-contains, with and without case folding', () => {
    assert.equal(contains.name, 'contains paris');
    assert.equal(contains.check('It is Paris.'), true);
    assert.equal(contains.check('Lyon'), false);
    assert.equal(notContains.check('I do not know'), false);
    assert.equal(notContains.check('i do not know'), true);
  });

  it('regex', () => {
    assert.equal(regex.check('1889'), true);
    assert.equal(regex.check('in 1889'), false);
  });

  it('json-schema: the answer must parse as JSON and validate', () => {
    assert.equal(schema.name, 'city');
    assert.equal(schema.check('{"city": "Paris"}'), true);
    assert.equal(schema.check('{"city": 3}'), false);
    assert.equal(schema.check('Paris'), false);
  });

  it('refuses wrong specs, naming the assertion', () => {
    assert.throws(() => compileAssertions({}), /JSON list/);
    assert.throws(() => compileAssertions([{ type: 'contains' }]), /assertion 1 \(contains\) needs a non-empty "value"/);
    assert.throws(() => compileAssertions([{ type: 'regex', pattern: '(' }]), /assertion 1 \(regex\)/);
    assert.throws(() => compileAssertions([{ type: 'json-schema', schema: { type: 'nope' } }]), /assertion 1 \(json-schema\): the schema is invalid/);
    assert.throws(() => compileAssertions([{ type: 'equals', value: 'x' }]), /assertion 1 has type "equals"/);
    assert.throws(() => compileAssertions([{ type: 'contains', value: 'x' }, { type: 'contains', value: 'x' }]), /two assertions are named 'contains x'/);
  });
});
