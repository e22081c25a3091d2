import assert from 'node:assert/strict';
import { detectSecrets, shannonEntropy } from '../../core/guardrail/secrets';

// Built at run time so secret scanners do not take the test data for leaked credentials.
const ALNUM = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG2hJ4kL6mN8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hJ8kL0mN2pQ4rS6tU8';
const github = 'gh' + 'p_' + ALNUM.slice(0, 36);
const githubPat = 'github' + '_pat_' + ALNUM.slice(0, 22) + '_' + ALNUM.slice(22, 81);
const aws = 'AK' + 'IA' + 'IOSFODNN7EXAMPLE';
const openai = 's' + 'k-proj-' + ALNUM.slice(0, 48);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '1234567890', name: 'Jane' })}.${ALNUM.slice(0, 43)}`;

const found = (text: string) => detectSecrets(text).map((s) => ({ type: s.type, text: text.slice(s.start, s.end) }));

describe('guardrail secrets', () => {
  it('AWS access key ids: the 20-character ids, not 19 or lower case', () => {
    assert.deepEqual(found(`key ${aws}`), [{ type: 'aws-access-key-id', text: aws }]);
    assert.deepEqual(found(`key ${aws.slice(0, 19)}`), []);
    assert.deepEqual(found(`key ${aws.toLowerCase()}`), []);
  });

  it('GitHub tokens, classic and fine-grained, not one character short', () => {
    assert.deepEqual(found(`token: ${github}`)[0], { type: 'github-token', text: github });
    assert.deepEqual(found(githubPat), [{ type: 'github-token', text: githubPat }]);
    assert.deepEqual(found(`see ${github.slice(0, -1)} here`), []);
  });

  it('OpenAI-style sk- keys, not words like sk-learn or task-list', () => {
    assert.deepEqual(found(`OPENAI ${openai}`), [{ type: 'openai-key', text: openai }]);
    assert.deepEqual(found('pip install sk-learn; a task-list-of-things-to-do-this-week-and-next'), []);
  });

  it('private key blocks, whole, but not public keys', () => {
    const block = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----';
    assert.deepEqual(found(`here:\n${block}\nbye`), [{ type: 'private-key', text: block }]);
    assert.deepEqual(found('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn')[0].type, 'private-key');
    assert.deepEqual(found('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----'), []);
  });

  it('JWTs whose header decodes to JSON with alg, not look-alikes', () => {
    assert.deepEqual(found(`Bearer ${jwt}`), [{ type: 'jwt', text: jwt }]);
    assert.deepEqual(found('eyJhbGciOiJub25l.eyJzdWIiOiIx.sig but eyJnotjson.eyJabcdefg.x'), found('eyJhbGciOiJub25l.eyJzdWIiOiIx.sig'));
    assert.deepEqual(found('eyJhYmNkZWZn.eyJhYmNkZWZn.xyz'), []);
  });

  it('high-entropy values assigned to secret-sounding names: the value only', () => {
    const value = 'Zx9#qL2$wP7!rT4@';
    assert.deepEqual(found(`db_password = "${value}"`), [{ type: 'secret-assignment', text: value }]);
    assert.deepEqual(found(`"client_secret": "${ALNUM.slice(3, 35)}"`), [{ type: 'secret-assignment', text: ALNUM.slice(3, 35) }]);
    assert.deepEqual(found('password = "changeme"'), []);
    assert.deepEqual(found('token: aaaaaaaaaaaaaaaaaaaaaaaa'), []);
    assert.deepEqual(found('password_reset_instructions_are_in_the_email'), []);
  });

  it('entropy is bits per character', () => {
    assert.equal(shannonEntropy('aaaa'), 0);
    assert.equal(shannonEntropy('abcd'), 2);
  });
});
