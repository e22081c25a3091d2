/** Personal data: e-mail, phone, IP address, payment card (Luhn), IBAN (mod-97), national ids (US SSN, UK NINO). */
import net from 'node:net';
import { firstWins, matchSpans, Span } from './span';

/** The Luhn checksum payment card numbers carry in their last digit. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616: the country code and check digits moved to the end, letters as 10–35, remainder mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/** SSA never issues area 000, 666 or 900–999, group 00 or serial 0000. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

const EMAIL = /(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])/g;
// Not the digits after an IBAN's country code and check digits.
const CARD = /(?<![\w-])(?<![A-Z]{2}\d{2} )\d(?:[ -]?\d){12,18}(?![\w-])/g;
// Printed in groups of four or written compact.
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?|[A-Z0-9]{11,30})(?![A-Za-z0-9])/g;
const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g;
// HMRC: first letter not D F I Q U V, second not D F I O Q U V, and a few prefixes never issued.
const NINO = /(?<![A-Za-z0-9])(?!BG|GB|NK|KN|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g;
const IPV4 = /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;
const PHONE_INTL = /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])/g;
const PHONE_NANP = /(?<![\w+(])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\w)/g;

/** A printed IBAN may be followed by a short word the pattern takes for its last group: retry without it. */
function ibanSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(IBAN)) {
    const start = m.index ?? 0;
    const lastGroup = m[0].lastIndexOf(' ');
    const candidates = lastGroup > 4 ? [m[0], m[0].slice(0, lastGroup)] : [m[0]];
    const found = candidates.find(ibanValid);
    if (found) spans.push({ type: 'iban', start, end: start + found.length });
  }
  return spans;
}

const digitCount = (s: string) => s.replace(/\D/g, '').length;

export function detectPii(text: string): Span[] {
  return firstWins([
    matchSpans(text, EMAIL, 'email'),
    // Before cards: the digits of a printed IBAN can pass Luhn too.
    ibanSpans(text),
    matchSpans(text, CARD, 'credit-card', (m) => {
      const digits = m[0].replace(/\D/g, '');
      return !/^(\d)\1+$/.test(digits) && luhnValid(digits);
    }),
    matchSpans(text, SSN, 'us-ssn', (m) => ssnValid(m[1], m[3], m[4])),
    matchSpans(text, NINO, 'uk-nino'),
    matchSpans(text, IPV4, 'ip-address', (m) => net.isIPv4(m[0])),
    matchSpans(text, IPV6, 'ip-address', (m) => /[0-9A-Fa-f]/.test(m[0]) && net.isIPv6(m[0])),
    matchSpans(text, PHONE_INTL, 'phone', (m) => digitCount(m[0]) >= 8 && digitCount(m[0]) <= 15),
    matchSpans(text, PHONE_NANP, 'phone'),
  ]);
}
