/** Credentials: AWS access key ids, GitHub tokens, OpenAI-style keys, private key blocks, JWTs, high-entropy assignments. */
import { firstWins, matchSpans, Span } from './span';

/** Bits per character of the text's own character distribution. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...text].length;
  let bits = 0;
  for (const c of counts.values()) bits -= (c / n) * Math.log2(c / n);
  return bits;
}

const PRIVATE_KEY = /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g;
const JWT = /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![\w-])/g;
// Prefixes AWS gives access key ids (AKIA long-term, ASIA temporary, and the other IAM unique-id kinds).
const AWS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const GITHUB_TOKEN = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/g;
const OPENAI_KEY = /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}(?![\w-])/g;
const ASSIGNMENT = /(?<![A-Za-z0-9])(?:[A-Za-z0-9]+[_-])*(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|auth[_-]?key|credentials?)(?:[_-][A-Za-z0-9]+)*["']?\s*[:=]\s*["']?([^\s"'`,;]{16,})/gi;

function jwtHeaderIsJson(token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return !!header && typeof header === 'object' && 'alg' in header;
  } catch {
    return false;
  }
}

/** The value of `name = value` where the name says secret and the value looks random (not a word or a placeholder). */
function assignedSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(ASSIGNMENT)) {
    const value = m[1];
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((c) => c.test(value)).length;
    if (shannonEntropy(value) < 3.5 || classes < 2) continue;
    const end = (m.index ?? 0) + m[0].length;
    spans.push({ type: 'secret-assignment', start: end - value.length, end });
  }
  return spans;
}

export function detectSecrets(text: string): Span[] {
  return firstWins([
    matchSpans(text, PRIVATE_KEY, 'private-key'),
    matchSpans(text, JWT, 'jwt', (m) => jwtHeaderIsJson(m[0])),
    matchSpans(text, AWS_KEY_ID, 'aws-access-key-id'),
    matchSpans(text, GITHUB_TOKEN, 'github-token'),
    matchSpans(text, OPENAI_KEY, 'openai-key'),
    assignedSecrets(text),
  ]);
}
