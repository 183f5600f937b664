import { expect } from 'chai';
import { PhiCipher } from '../../server/crypto/phi-cipher.ts';
import { AppError } from '../../server/errors.ts';
import {
  nameAndDateOfBirthKey, nameWordKey, nameWords, normalizeDateOfBirth, normalizeMrn, patientKeys,
} from '../../server/timeline/patients/patient-keys.ts';

const cipher = new PhiCipher([{ id: 'k1', key: Buffer.alloc(32, 1) }], Buffer.alloc(32, 2));
const today = new Date('2026-01-15T12:00:00Z');

describe('patient search keys', () => {
  it('folds names into words: accents, case, apostrophes, hyphens and letters without a decomposition', () => {
    expect(nameWords('Zoë Ångström-Dubois')).to.deep.equal(['zoe', 'angstrom', 'dubois']);
    expect(nameWords("  O'Neil,  SØREN  ")).to.deep.equal(['oneil', 'soren']);
    expect(nameWords('Straße Łukasz Æsa')).to.deep.equal(['strasse', 'lukasz', 'aesa']);
    expect(nameWords('ｊｏｓé')).to.deep.equal(['jose']);
    expect(nameWords('Ana ana')).to.deep.equal(['ana']);
  });

  it('keys each word and its prefixes of 3 letters or more, never shorter ones', () => {
    const { searchKeys } = patientKeys(cipher, { name: 'Zelda Li', dateOfBirth: null, mrn: null });
    const has = (word: string) => searchKeys.includes(nameWordKey(cipher, word));
    expect(['zel', 'zeld', 'zelda', 'li'].every(has)).to.equal(true);
    expect(['ze', 'z', 'l', 'zeldas', 'elda'].some(has)).to.equal(false);
    expect(searchKeys).to.have.length(4);
  });

  it('keys the same name and birthday alike whatever the order, case or accents, and other birthdays apart', () => {
    const a = nameAndDateOfBirthKey(cipher, nameWords('Dóra Duplicate'), '1970-01-20');
    expect(nameAndDateOfBirthKey(cipher, nameWords('DUPLICATE, dora'), '1970-01-20')).to.equal(a);
    expect(nameAndDateOfBirthKey(cipher, nameWords('Dora Duplicate'), '1970-01-21')).not.to.equal(a);
    // Keys of different kinds never collide: a date of birth is not a name word.
    const dob = patientKeys(cipher, { name: null, dateOfBirth: '1970-01-20', mrn: null }).searchKeys[0];
    expect(dob).not.to.equal(nameWordKey(cipher, '1970-01-20'));
  });

  it('reads dates of birth as YYYY-MM-DD or MM/DD/YYYY, refusing impossible and future ones', () => {
    expect(normalizeDateOfBirth('1984-7-3', today)).to.equal('1984-07-03');
    expect(normalizeDateOfBirth('07/31/1984', today)).to.equal('1984-07-31');
    for (const bad of ['1984-02-30', '13/01/1984', '31.07.1984', '2026-01-16', '1899-12-31', 'yesterday']) {
      expect(() => normalizeDateOfBirth(bad, today), bad).to.throw(AppError);
    }
  });

  it('trims and uppercases MRNs, refusing spaces and symbols', () => {
    expect(normalizeMrn('  mrn-00042 ')).to.equal('MRN-00042');
    expect(() => normalizeMrn('MRN 42')).to.throw(AppError);
    expect(() => normalizeMrn('<x>')).to.throw(AppError);
  });
});
