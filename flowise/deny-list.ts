/**
 * Flowise's HTTP deny list for the URLs a chatflow user can set (Base URL inputs, the OPEA Server
 * credential's URL, the benchmark's target). Inside Flowise the check is Flowise's own `checkDenyList`
 * (flowise-components src/httpSecurity.ts), so the policy is exactly the one its HTTP nodes, loaders
 * and rerankers apply in the running version: from 3.1 on, private, loopback and link-local addresses
 * are denied unless HTTP_SECURITY_CHECK=false, plus every HTTP_DENY_LIST entry. Where that function is
 * not reachable (Flowise older than 3.0.5, or no Flowise at all) the entries of HTTP_DENY_LIST are
 * still refused: IP addresses, CIDR ranges and host names, checked against every address the host
 * name resolves to.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { hostModule } from './host';

type DenyCheck = (url: string) => Promise<void>;

/** Flowise's own check, when this file runs inside its components package. */
function hostCheck(): DenyCheck | undefined {
  const found = hostModule('../../../src/httpSecurity')?.checkDenyList ?? hostModule('flowise-components')?.checkDenyList;
  return typeof found === 'function' ? (found as DenyCheck) : undefined;
}

/** An IPv4 address written as IPv6 (::ffff:10.0.0.1) is the IPv4 address. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

const ipFamily = (address: string): 'ipv4' | 'ipv6' => (net.isIPv4(address) ? 'ipv4' : 'ipv6');

/** HTTP_DENY_LIST as Flowise reads it: comma separated, blanks ignored. */
export function denyListEntries(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.HTTP_DENY_LIST ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The fallback check: HTTP_DENY_LIST's addresses, ranges and host names. */
async function entriesCheck(url: string): Promise<void> {
  const entries = denyListEntries();
  if (entries.length === 0) return;
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const blocked = new net.BlockList();
  const names = new Set<string>();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const plain = plainAddress(address);
    if (net.isIP(plain) === 0) names.add(entry.toLowerCase());
    else if (prefix === undefined) blocked.addAddress(plain, ipFamily(plain));
    else if (/^\d+$/.test(prefix) && Number(prefix) <= (ipFamily(plain) === 'ipv4' ? 32 : 128)) blocked.addSubnet(plain, Number(prefix), ipFamily(plain));
    else throw new Error(`the HTTP_DENY_LIST entry '${entry}' is not an address, a range (CIDR) or a host name`);
  }
  if (names.has(host)) throw new Error('Access to this host is denied by policy.');
  const addresses = net.isIP(host) !== 0 ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  if (addresses.some((a) => blocked.check(plainAddress(a), ipFamily(plainAddress(a))))) throw new Error('Access to this host is denied by policy.');
}

/**
 * Refuses `url` when Flowise's deny list covers its host. `what` names the setting in the user's words
 * (e.g. "OPEA Chat Model: Base URL").
 */
export async function checkAllowed(url: string, what: string): Promise<void> {
  if (!URL.canParse(url)) throw new Error(`${what} '${url}' is not a URL`);
  const check = hostCheck() ?? entriesCheck;
  try {
    await check(url);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new Error(`${what} ${url}: host not found — check the host name`);
    const reason = err instanceof Error ? err.message.replace(/^isDeniedIP: (Error: )?/, '') : String(err);
    throw new Error(
      `${what} ${url} is refused by Flowise's HTTP deny list (${reason}) — ask the Flowise administrator to allow this host: ` +
        'remove it from HTTP_DENY_LIST, or, for OPEA services on a private network, start Flowise with HTTP_SECURITY_CHECK=false ' +
        'and list in HTTP_DENY_LIST the addresses that must stay unreachable (e.g. 169.254.169.254)',
    );
  }
}
