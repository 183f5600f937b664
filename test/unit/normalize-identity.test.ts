import { expect } from 'chai';
import { AppError } from '../../server/errors.ts';
import { normalizeEmail, normalizeIdentity, normalizePhone } from '../../server/timeline/identity/normalize-identity.ts';

describe('identity normalization', () => {
  it('gives one E.164 number for the common ways a US number is written', () => {
    const forms = ['(415) 555-0100', '+14155550100', '415.555.0100', '415-555-0100', '1 415 555 0100', ' +1 (415) 555-0100 '];
    expect(new Set(forms.map((f) => normalizePhone(f, 'US')))).to.deep.equal(new Set(['+14155550100']));
  });

  it('reads national numbers in the configured default region', () => {
    expect(normalizePhone('020 7946 0018', 'GB')).to.equal('+442079460018');
    expect(normalizePhone('06 1234 5678', 'IT')).to.equal('+390612345678');
  });

  it('refuses text that is not a phone number, naming the field', () => {
    for (const bad of ['hello', '12', '']) {
      try {
        normalizePhone(bad, 'US');
        expect.fail(`accepted ${bad}`);
      } catch (error) {
        expect(error).to.be.instanceOf(AppError);
        expect((error as AppError).code).to.equal('INVALID_PHONE_NUMBER');
        expect((error as AppError).details.field).to.equal('phone');
      }
    }
  });

  it('lowercases and trims emails, and refuses malformed ones', () => {
    expect(normalizeEmail('  Jane.Doe@Example.ORG ')).to.equal('jane.doe@example.org');
    expect(() => normalizeEmail('jane@')).to.throw(AppError);
  });

  it('accepts only well-formed web visitor ids', () => {
    expect(normalizeIdentity({ kind: 'web', value: 'v_abcdef12' }, 'US').value).to.equal('v_abcdef12');
    expect(() => normalizeIdentity({ kind: 'web', value: 'x y' }, 'US')).to.throw(AppError);
  });
});
