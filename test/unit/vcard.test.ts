import { expect } from 'chai';
import vCard from 'vcf';
import {
  ClinicCardError,
  cardRevision,
  cardUid,
  renderVCard,
  vcardFileName,
} from '../../channels/vcard/clinic-card.ts';
import type { ClinicCard } from '../../channels/vcard/clinic-card.ts';

/*
 * Cards are read back with the independent `vcf` package. vcf unfolds lines
 * correctly and splits name, parameters and value, but it does NOT unescape
 * anything: `\,`, `\;`, `\\` and `\n` come back verbatim, in plain text and in
 * structured values alike (and its toJSON() splits N/ADR on every `;`, escaped
 * or not). So values are decoded here with the RFC 6350 §3.4 / RFC 2426 §4
 * rules (`rfcText`, `rfcComponents`), and the escaping itself is also asserted
 * on the raw unfolded text.
 */

const SEED = 'https://hub.riverside.example';
const REV = new Date('2024-05-06T07:08:09.123Z');
const LOGO = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 7) % 256)),
]);
const NOTE = [
  'Bienvenue à la Clinique Riverside — nous appelons depuis ces numéros; merci de ne pas les bloquer.',
  'Für Rückfragen: Mo–Fr 8–18 Uhr, Sa 9–12 Uhr. Notfälle: 144.',
  '診療時間外は留守番電話にメッセージを残してください。',
  'Emoji: 🏥👩🏽‍⚕️📞✉️🇨🇭, a backslash \\ and commas, semicolons; done.',
  'Línea final con acentos: ñ, ü, ç, ø, ł, ş — fin.',
]
  .join('\n')
  .repeat(2);

function trickyCard(): ClinicCard {
  return {
    organization: 'Riverside, Family; Clinic \\ Café 🏥',
    department: 'Pédiatrie; Kids, Teens \\ 👶🏽',
    phones: [
      { number: '+14155550100', types: ['work', 'voice', 'main'] },
      { number: '+14155550101', types: ['text', 'cell'], label: 'Texts, only; ✉️ après 18h \\' },
      { number: '+442079460018', types: ['work'] },
    ],
    email: 'front.desk@riverside.example',
    website: 'https://riverside.example/patients?lang=fr&x=1',
    address: {
      street: '12 Rue de l’Église, Bât. B; 2e étage',
      locality: 'Zürich',
      region: 'ZH',
      postalCode: '8001',
      country: 'Schweiz 🇨🇭',
    },
    note: NOTE,
    logo: { contentType: 'image/png', data: LOGO },
  };
}

function minimalCard(): ClinicCard {
  return { organization: 'Riverside Family Clinic', phones: [{ number: '+14155550100', types: ['work', 'voice'] }] };
}

// RFC 6350 §3.4: \\ \, \; and \n (or \N) are the only escapes.
function rfcText(raw: string): string {
  return raw.replace(/\\([\\,;nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

// Components are separated by unescaped `;` only.
function rfcComponents(raw: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      current += c + (raw[i + 1] ?? '');
      i++;
    } else if (c === ';') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map(rfcText);
}

function all(card: vCard, key: string): vCard.Property[] {
  const value = card.data[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function one(card: vCard, key: string): vCard.Property {
  const props = all(card, key);
  expect(props, key).to.have.length(1);
  return props[0]!;
}

// vcf gives a single TYPE as a string and several as an array, lowercased.
function types(prop: vCard.Property): string[] {
  return prop.type === undefined ? [] : Array.isArray(prop.type) ? prop.type : [prop.type];
}

function unfoldedLines(text: string): string[] {
  return text.replace(/\r\n /g, '').split('\r\n');
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ClinicCardError);
    const { field, message } = error as ClinicCardError;
    expect(message).to.include(field);
    return field;
  }
  throw new Error('expected an error');
}

for (const version of ['3.0', '4.0'] as const) {
  describe(`clinic vCard ${version}`, () => {
    const v4 = version === '4.0';
    const render = (card: ClinicCard) => renderVCard(card, { version, uid: cardUid(SEED), rev: REV });

    it('round-trips every field through an independent parser', () => {
      const card = trickyCard();
      const parsed = new vCard().parse(render(card));

      expect(parsed.version).to.equal(version);
      expect(rfcComponents(one(parsed, 'n').valueOf())).to.deep.equal(['', '', '', '', '']);
      expect(rfcText(one(parsed, 'fn').valueOf())).to.equal(card.organization);
      expect(rfcComponents(one(parsed, 'org').valueOf())).to.deep.equal([card.organization, card.department]);
      if (v4) {
        expect(one(parsed, 'kind').valueOf()).to.equal('org');
        expect(all(parsed, 'xAbShowAs')).to.have.length(0);
      } else {
        expect(one(parsed, 'xAbShowAs').valueOf()).to.equal('COMPANY');
        expect(all(parsed, 'kind')).to.have.length(0);
      }

      const tels = all(parsed, 'tel');
      const labels = all(parsed, 'xAbLabel');
      expect(tels).to.have.length(card.phones.length);
      card.phones.forEach((phone, i) => {
        const tel = tels[i]!;
        expect(tel.valueOf()).to.equal(v4 ? `tel:${phone.number}` : phone.number);
        if (v4) expect(tel.value).to.equal('uri');
        const expectedTypes = phone.types.map((t) => (v4 && t === 'main' ? 'main-number' : t));
        expect(types(tel)).to.deep.equal(expectedTypes);
        const label = labels.find((l) => tel.group !== undefined && l.group === tel.group);
        expect(label ? rfcText(label.valueOf()) : undefined, `label of phone ${i}`).to.equal(phone.label);
      });
      expect(labels).to.have.length(1);

      expect(one(parsed, 'email').valueOf()).to.equal(card.email);
      expect(types(one(parsed, 'email'))).to.include('work');
      expect(one(parsed, 'url').valueOf()).to.equal(card.website);
      const a = card.address!;
      expect(rfcComponents(one(parsed, 'adr').valueOf())).to.deep.equal(['', '', a.street, a.locality, a.region, a.postalCode, a.country]);
      expect(rfcText(one(parsed, 'note').valueOf())).to.equal(NOTE);
      expect(one(parsed, 'uid').valueOf()).to.equal(`urn:uuid:${cardUid(SEED)}`);
      expect(one(parsed, 'rev').valueOf()).to.equal(v4 ? '20240506T070809Z' : '2024-05-06T07:08:09Z');
    });

    it('round-trips the logo', () => {
      for (const contentType of ['image/png', 'image/jpeg'] as const) {
        const parsed = new vCard().parse(render({ ...trickyCard(), logo: { contentType, data: LOGO } }));
        const photo = one(parsed, 'photo');
        if (v4) {
          const match = /^data:(image\/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)$/.exec(photo.valueOf());
          expect(match?.[1]).to.equal(contentType);
          expect(Buffer.from(match![2]!, 'base64').equals(LOGO)).to.equal(true);
        } else {
          expect(photo.encoding).to.equal('b');
          expect(photo.type).to.equal(contentType === 'image/png' ? 'png' : 'jpeg');
          expect(Buffer.from(photo.valueOf(), 'base64').equals(LOGO)).to.equal(true);
        }
      }
      expect(all(new vCard().parse(render({ ...trickyCard(), logo: null })), 'photo')).to.have.length(0);
    });

    it('escapes \\ , ; and newlines in text and in each component of ORG and ADR', () => {
      const lines = unfoldedLines(render(trickyCard()));
      expect(lines).to.include(String.raw`FN:Riverside\, Family\; Clinic \\ Café 🏥`);
      expect(lines).to.include(String.raw`ORG:Riverside\, Family\; Clinic \\ Café 🏥;Pédiatrie\; Kids\, Teens \\ 👶🏽`);
      expect(lines).to.include(String.raw`ADR;TYPE=${v4 ? 'work' : 'WORK'}:;;12 Rue de l’Église\, Bât. B\; 2e étage;Zürich;ZH;8001;Schweiz 🇨🇭`);
      expect(lines.find((l) => l.startsWith('NOTE:'))).to.include(String.raw`de ne pas les bloquer.\nFür`);
      expect(lines.find((l) => l.startsWith('NOTE:'))).not.to.match(/[^\\][,;]/);
    });

    it('writes an organization card with only the required parts', () => {
      const parsed = new vCard().parse(render(minimalCard()));
      expect(rfcComponents(one(parsed, 'org').valueOf())).to.deep.equal(['Riverside Family Clinic']);
      for (const key of ['email', 'url', 'adr', 'note', 'photo', 'xAbLabel']) expect(all(parsed, key), key).to.have.length(0);
      expect(types(one(parsed, 'tel'))).to.deep.equal(['work', 'voice']);
    });

    for (const [name, card] of [
      ['the tricky card', trickyCard()],
      ['4-byte characters at every boundary', { ...minimalCard(), organization: '🏥'.repeat(50), note: '👩🏽‍⚕️'.repeat(40) }],
      ['3-byte characters at every boundary', { ...minimalCard(), note: '診'.repeat(200) }],
    ] as const) {
      it(`folds at 75 octets without splitting a UTF-8 character (${name})`, () => {
        const text = render(card);
        const bytes = Buffer.from(text, 'utf8');
        // No lone surrogates: a fold between the halves of an emoji would show here.
        expect(bytes.toString('utf8')).to.equal(text);

        expect(text.endsWith('\r\n')).to.equal(true);
        const physical = text.slice(0, -2).split('\r\n');
        for (const line of physical) expect(line).not.to.match(/[\r\n]/);

        const decoder = new TextDecoder('utf-8', { fatal: true });
        let start = 0;
        const lines: Buffer[] = [];
        for (let i = bytes.indexOf('\r\n'); i !== -1; i = bytes.indexOf('\r\n', start)) {
          lines.push(bytes.subarray(start, i));
          start = i + 2;
        }
        expect(start).to.equal(bytes.length);
        lines.forEach((line, i) => {
          expect(line.length, `line ${i} octets`).to.be.at.most(75);
          const decoded = decoder.decode(line);
          expect(decoded, `line ${i}`).not.to.include('\uFFFD');
          // A fold only moves back to the start of the character that did not fit.
          if (lines[i + 1]?.[0] === 0x20) expect(line.length, `line ${i} is folded early`).to.be.at.least(72);
        });
        expect(lines.filter((l) => l[0] === 0x20).length, 'continuation lines').to.be.greaterThan(2);

        const parsed = new vCard().parse(text);
        expect(rfcText(one(parsed, 'fn').valueOf())).to.equal(card.organization);
        expect(rfcText(one(parsed, 'note').valueOf())).to.equal(card.note);
      });
    }
  });
}

describe('clinic vCard identity and revision', () => {
  it('defaults to vCard 3.0 and is deterministic', () => {
    const options = { uid: cardUid(SEED), rev: REV };
    expect(renderVCard(trickyCard(), options)).to.equal(renderVCard(trickyCard(), { ...options, version: '3.0' }));
    expect(renderVCard(trickyCard(), options)).to.match(/^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
  });

  it('derives a stable UUID-shaped UID from the seed alone', () => {
    const uid = cardUid(SEED);
    expect(uid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(cardUid(SEED)).to.equal(uid);
    expect(cardUid('https://hub.other.example')).not.to.equal(uid);
    // Renaming the clinic keeps the UID, so phones update the saved contact.
    const renamed = { ...trickyCard(), organization: 'Riverside Health' };
    const uidLine = (card: ClinicCard) => unfoldedLines(renderVCard(card, { uid, rev: REV })).find((l) => l.startsWith('UID:'));
    expect(uidLine(renamed)).to.equal(uidLine(trickyCard())).and.to.equal(`UID:urn:uuid:${uid}`);
    // Also accepted in urn form and in upper case.
    const fromUrn = renderVCard(minimalCard(), { uid: `urn:uuid:${uid.toUpperCase()}`, rev: REV });
    expect(unfoldedLines(fromUrn)).to.include(`UID:urn:uuid:${uid}`);
  });

  it('changes the revision when the content changes, and only then', () => {
    const base = cardRevision(trickyCard());
    expect(base).to.match(/^[0-9a-f]{16}$/);

    const same = trickyCard();
    const reordered: ClinicCard = {
      logo: same.logo,
      note: same.note,
      phones: same.phones.map((p) => ({ label: p.label, types: [...p.types], number: p.number })),
      address: same.address,
      department: same.department,
      email: same.email,
      website: same.website,
      organization: same.organization,
    };
    expect(cardRevision(reordered)).to.equal(base);
    expect(cardRevision({ ...minimalCard(), department: undefined, note: '' })).to.equal(cardRevision(minimalCard()));

    const changed = (edit: (card: ClinicCard) => void) => {
      const card = trickyCard();
      edit(card);
      return cardRevision(card);
    };
    expect(changed((c) => (c.phones[1]!.number = '+14155550199'))).not.to.equal(base);
    expect(changed((c) => c.phones.push({ number: '+14155550199', types: ['work'] }))).not.to.equal(base);
    expect(changed((c) => (c.phones[0]!.types = ['work']))).not.to.equal(base);
    expect(changed((c) => (c.phones[1]!.label = 'SMS'))).not.to.equal(base);
    expect(changed((c) => (c.note = `${NOTE}.`))).not.to.equal(base);
    expect(changed((c) => (c.logo = { contentType: 'image/png', data: Buffer.concat([LOGO, Buffer.from([0])]) }))).not.to.equal(base);
  });
});

describe('clinic vCard input validation', () => {
  const options = { uid: cardUid(SEED), rev: REV };
  const failing = (edit: (card: ClinicCard) => void) => () => {
    const card = trickyCard();
    edit(card);
    renderVCard(card, options);
  };

  it('names the field that is wrong', () => {
    expect(fieldOf(failing((c) => (c.organization = '')))).to.equal('organization');
    expect(fieldOf(failing((c) => (c.organization = '   ')))).to.equal('organization');
    expect(fieldOf(failing((c) => (c.phones = [])))).to.equal('phones');
    for (const bad of ['415-555-0101', '+1 415 555 0101', '14155550101', '+0123456', '+1234567890123456', 'tel:+14155550101']) {
      expect(fieldOf(failing((c) => (c.phones[1]!.number = bad))), bad).to.equal('phones[1].number');
    }
    expect(fieldOf(failing((c) => (c.phones[0]!.types = ['fax' as 'work'])))).to.equal('phones[0].types');
    for (const bad of ['front desk@riverside.example', 'front@', 'a@@b.example', 'a@b', 'a;b@c.example', 'a@b.example\n']) {
      expect(fieldOf(failing((c) => (c.email = bad))), bad).to.equal('email');
    }
    expect(fieldOf(failing((c) => (c.website = 'javascript:alert(1)')))).to.equal('website');
    expect(fieldOf(failing((c) => (c.website = 'https://riverside.example/\nX-INJECTED:1')))).to.equal('website');
    expect(fieldOf(failing((c) => (c.note = 'bell \u0007')))).to.equal('note');
    expect(fieldOf(failing((c) => (c.address!.street = 'lone \uD83C surrogate')))).to.equal('address.street');
    expect(fieldOf(failing((c) => (c.logo = { contentType: 'image/gif' as 'image/png', data: LOGO })))).to.equal('logo.contentType');
    expect(fieldOf(() => renderVCard(trickyCard(), { ...options, uid: 'riverside' }))).to.equal('uid');
    expect(fieldOf(() => renderVCard(trickyCard(), { ...options, rev: new Date('nope') }))).to.equal('rev');
    expect(fieldOf(() => cardUid(''))).to.equal('seed');
  });

  it('keeps newlines in text from starting a new property', () => {
    const text = renderVCard({ ...minimalCard(), note: 'a\r\nEND:VCARD\nb\rc' }, options);
    expect(unfoldedLines(text)).to.include(String.raw`NOTE:a\nEND:VCARD\nb\nc`);
    expect(rfcText(one(new vCard().parse(text), 'note').valueOf())).to.equal('a\nEND:VCARD\nb\nc');
  });
});

describe('vcardFileName', () => {
  it('gives a safe ASCII file name', () => {
    expect(vcardFileName('Riverside Family Clinic')).to.equal('Riverside-Family-Clinic.vcf');
    expect(vcardFileName("St. Mary's / Clínica São José")).to.equal('St-Marys-Clinica-Sao-Jose.vcf');
    expect(vcardFileName('../../etc/passwd')).to.equal('etc-passwd.vcf');
    expect(vcardFileName('🏥 诊所')).to.equal('clinic.vcf');
    const long = vcardFileName('Riverside '.repeat(20));
    expect(long).to.match(/^[A-Za-z0-9-]{1,64}\.vcf$/);
    expect(long).not.to.match(/-\.vcf$/);
  });
});

describe('the vcf parser itself (why values are decoded in this file)', () => {
  it('returns escaped text verbatim', () => {
    const parsed = new vCard().parse(renderVCard(trickyCard(), { uid: cardUid(SEED), rev: REV }));
    expect(one(parsed, 'fn').valueOf()).to.equal(String.raw`Riverside\, Family\; Clinic \\ Café 🏥`);
    // Its jCard view splits ADR on the escaped `;` inside the street as well.
    const adr = one(parsed, 'adr').toJSON()[3] as string[];
    expect(adr).to.have.length(8);
  });
});
