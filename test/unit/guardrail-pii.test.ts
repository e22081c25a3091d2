import assert from 'node:assert/strict';
import { detectPii, ibanValid, luhnValid, ssnValid } from '../../core/guardrail/pii';

const found = (text: string) => detectPii(text).map((s) => ({ type: s.type, text: text.slice(s.start, s.end) }));
const types = (text: string) => detectPii(text).map((s) => s.type);

describe('guardrail pii', () => {
  it('Luhn: accepts test card numbers, refuses one digit off', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('378282246310005'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('378282246310006'), false);
  });

  it('finds card numbers written with spaces or dashes, not ones failing Luhn or all one digit', () => {
    assert.deepEqual(found('pay with 4111 1111 1111 1111 today'), [{ type: 'credit-card', text: '4111 1111 1111 1111' }]);
    assert.deepEqual(found('amex 3782-822463-10005.'), [{ type: 'credit-card', text: '3782-822463-10005' }]);
    assert.deepEqual(types('pay with 4111 1111 1111 1112 today'), []);
    assert.deepEqual(types('order 0000000000000000'), []);
    assert.deepEqual(types('a 12-digit id 123456789012'), []);
  });

  it('IBAN: mod-97 decides, in groups of four or compact, even before a short word', () => {
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 00'), true);
    assert.equal(ibanValid('GB82WEST12345698765432'), true);
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 01'), false);
    assert.deepEqual(found('IBAN DE89 3704 0044 0532 0130 00, thanks'), [{ type: 'iban', text: 'DE89 3704 0044 0532 0130 00' }]);
    assert.deepEqual(found('to GB82WEST12345698765432'), [{ type: 'iban', text: 'GB82WEST12345698765432' }]);
    assert.deepEqual(found('BE68 5390 0754 7034 AND more'), [{ type: 'iban', text: 'BE68 5390 0754 7034' }]);
    // Its digits after the check digits pass Luhn: still one IBAN, not a card.
    assert.deepEqual(found('IBAN DE62 3704 0044 0532 2426 00'), [{ type: 'iban', text: 'DE62 3704 0044 0532 2426 00' }]);
    assert.deepEqual(types('IBAN DE89 3704 0044 0532 0130 01'), []);
  });

  it('US SSN: valid ranges only, with consistent separators', () => {
    assert.deepEqual(found('SSN 123-45-6789.'), [{ type: 'us-ssn', text: '123-45-6789' }]);
    assert.deepEqual(found('SSN 123 45 6789'), [{ type: 'us-ssn', text: '123 45 6789' }]);
    for (const invalid of ['000-12-3456', '666-12-3456', '901-12-3456', '123-00-4567', '123-45-0000', '123-45 6789']) assert.deepEqual(types(`SSN ${invalid}`), [], invalid);
    assert.equal(ssnValid('899', '99', '9999'), true);
    assert.equal(ssnValid('900', '12', '3456'), false);
  });

  it('UK National Insurance number, not with a prefix HMRC never issues', () => {
    assert.deepEqual(found('NINO AB 12 34 56 C'), [{ type: 'uk-nino', text: 'AB 12 34 56 C' }]);
    assert.deepEqual(types('NINO GB123456A'), []);
    assert.deepEqual(types('NINO DA123456A'), []);
  });

  it('e-mail addresses, not handles or bare hosts', () => {
    assert.deepEqual(found('write to jane.doe+rag@example.co.uk.'), [{ type: 'email', text: 'jane.doe+rag@example.co.uk' }]);
    assert.deepEqual(types('ping @jane or root@localhost'), []);
  });

  it('IP addresses, validated: no octet over 255, not a longer dotted version', () => {
    assert.deepEqual(found('host 192.168.1.20 and ::1 and 2001:db8::8a2e:370:7334'), [
      { type: 'ip-address', text: '192.168.1.20' },
      { type: 'ip-address', text: '::1' },
      { type: 'ip-address', text: '2001:db8::8a2e:370:7334' },
    ]);
    assert.deepEqual(types('version 1.2.3.4.5, bad 999.1.1.1, time 12:30:45, C++ std::vector'), []);
  });

  it('phone numbers: international and North American, not dates or short numbers', () => {
    assert.deepEqual(found('call +44 20 7946 0958 or (555) 555-0123'), [
      { type: 'phone', text: '+44 20 7946 0958' },
      { type: 'phone', text: '(555) 555-0123' },
    ]);
    assert.deepEqual(found('or 555-555-0123'), [{ type: 'phone', text: '555-555-0123' }]);
    assert.deepEqual(types('on 2024-01-15, room 12-34, +1 2'), []);
  });
});
