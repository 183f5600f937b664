import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { authenticateSender } from '../../channels/email/sender-authentication.ts';

// The in-repo copy of shared/fixtures/sendgrid-inbound-parse.txt (byte-identical), so CI's clone has it.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'sendgrid-inbound-parse.txt');

/** Text fields of a multipart/form-data body (the fixture's boundary is xYzZY). */
function multipartFields(body: string, boundary: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const name = /name="([^"]+)"/.exec(head)?.[1];
    if (!name || /filename=/.test(head)) continue;
    fields[name] = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return fields;
}

const sendgridAr = (results: string) => `Authentication-Results: mx.sendgrid.net; ${results}`;

describe('email sender authentication', () => {
  describe('DKIM', () => {
    it('authenticates a From whose domain signed with a passing DKIM signature', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'none', dkim: '{@example.org : pass}' });
      expect(result).to.deep.equal({ authenticated: true, reason: 'dkim_aligned', fromDomain: 'example.org', spf: 'none', dkimPassDomains: ['example.org'] });
    });

    it('authenticates a DKIM pass from a subdomain of the From organizational domain (relaxed alignment)', () => {
      const result = authenticateSender({ from: 'user@example.org', dkim: '{@mail.example.org : pass}' });
      expect(result.authenticated).to.equal(true);
      expect(result.reason).to.equal('dkim_aligned');
    });

    it('authenticates a From on a subdomain when the organizational domain signed', () => {
      expect(authenticateSender({ from: 'user@mail.example.org', dkim: '{@example.org : pass}' }).authenticated).to.equal(true);
    });

    it('does not authenticate when the only passing DKIM signature is sendgrid.net', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'neutral', dkim: '{@example.org : fail, @sendgrid.net : pass}' });
      expect(result.authenticated).to.equal(false);
      expect(result.reason).to.equal('dkim_unaligned');
      expect(result.dkimPassDomains).to.deep.equal(['sendgrid.net']);
    });

    it('does not treat a failed DKIM signature for the From domain as a pass', () => {
      const result = authenticateSender({ from: 'jo@example.org', dkim: '{@example.org : fail}' });
      expect(result.authenticated).to.equal(false);
      expect(result.dkimPassDomains).to.deep.equal([]);
    });

    it('reads several dkim entries with irregular whitespace and mixed case', () => {
      const result = authenticateSender({ from: 'Jo@Example.ORG', dkim: '{ @sendgrid.net:pass ,   @EXAMPLE.org  :  PASS }' });
      expect(result.authenticated).to.equal(true);
      expect(result.fromDomain).to.equal('example.org');
      expect(result.dkimPassDomains).to.deep.equal(['sendgrid.net', 'example.org']);
    });

    it('does not align domains that only share a multi-part public suffix (example.co.uk vs other.co.uk)', () => {
      const result = authenticateSender({ from: 'jo@example.co.uk', dkim: '{@other.co.uk : pass}' });
      expect(result.authenticated).to.equal(false);
      expect(result.reason).to.equal('dkim_unaligned');
      expect(authenticateSender({ from: 'jo@example.co.uk', dkim: '{@mail.example.co.uk : pass}' }).authenticated).to.equal(true);
    });

    it('does not align two tenants of a shared hosting suffix from the private PSL section', () => {
      expect(authenticateSender({ from: 'jo@clinic.github.io', dkim: '{@attacker.github.io : pass}' }).authenticated).to.equal(false);
    });

    it('does not align a look-alike domain that merely ends with the From domain', () => {
      expect(authenticateSender({ from: 'jo@example.org', dkim: '{@badexample.org : pass}' }).authenticated).to.equal(false);
      expect(authenticateSender({ from: 'jo@example.org', dkim: '{@example.org.evil.example : pass}' }).authenticated).to.equal(false);
    });

    it('aligns a Unicode From domain with its punycode DKIM domain', () => {
      expect(authenticateSender({ from: 'jo@bücher.example', dkim: '{@xn--bcher-kva.example : pass}' }).authenticated).to.equal(true);
    });
  });

  describe('SPF', () => {
    it('authenticates an SPF pass whose envelope sender is on the From organizational domain', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'pass', dkim: 'none', envelopeFrom: 'bounce@mail.example.org' });
      expect(result).to.include({ authenticated: true, reason: 'spf_aligned', spf: 'pass' });
    });

    it('does not authenticate an SPF pass whose envelope sender is on another domain', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'pass', dkim: 'none', envelopeFrom: 'bounces@mailer.example.net' });
      expect(result).to.include({ authenticated: false, reason: 'spf_unaligned' });
    });

    it('does not authenticate an SPF pass when no envelope sender is known', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'pass', dkim: 'none' });
      expect(result).to.include({ authenticated: false, reason: 'spf_domain_unknown', spf: 'pass' });
    });

    it('does not authenticate an SPF pass for a null envelope sender (<>)', () => {
      expect(authenticateSender({ from: 'jo@example.org', spf: 'pass', envelopeFrom: '<>' }).authenticated).to.equal(false);
    });

    it('rejects a spoofed From with SPF fail and no DKIM signature', () => {
      const result = authenticateSender({ from: 'jo@example.org', spf: 'fail', dkim: 'none', envelopeFrom: 'jo@example.org' });
      expect(result).to.deep.equal({ authenticated: false, reason: 'spf_fail', fromDomain: 'example.org', spf: 'fail', dkimPassDomains: [] });
    });

    it('normalizes SPF results, mapping unknown words to none', () => {
      expect(authenticateSender({ from: 'jo@example.org', spf: ' SoftFail ' }).spf).to.equal('softfail');
      expect(authenticateSender({ from: 'jo@example.org', spf: 'PermError (bad record)' }).spf).to.equal('permerror');
      expect(authenticateSender({ from: 'jo@example.org', spf: 'definitely' }).spf).to.equal('none');
      expect(authenticateSender({ from: 'jo@example.org' }).spf).to.equal('none');
    });
  });

  describe('Authentication-Results headers', () => {
    it('ignores a forged Authentication-Results header from an untrusted authserv-id', () => {
      const headers = [
        'Received: by mx0047p1mdw1.sendgrid.net with SMTP id abc',
        'Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=jo@example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org',
        'From: Jo <jo@example.org>',
        '',
      ].join('\r\n');
      const result = authenticateSender({ from: 'jo@example.org', spf: 'softfail', dkim: 'none', headers });
      expect(result).to.deep.equal({ authenticated: false, reason: 'spf_fail', fromDomain: 'example.org', spf: 'softfail', dkimPassDomains: [] });
    });

    it('ignores an authserv-id that only contains sendgrid.net as a prefix', () => {
      const headers = 'Authentication-Results: sendgrid.net.evil.example; dkim=pass header.d=example.org\r\n';
      expect(authenticateSender({ from: 'jo@example.org', headers }).authenticated).to.equal(false);
    });

    it('authenticates on a trusted dkim=pass header.d=example.org', () => {
      const result = authenticateSender({ from: 'jo@example.org', dkim: 'none', headers: `${sendgridAr('dkim=pass header.d=example.org header.s=s1')}\r\n` });
      expect(result).to.include({ authenticated: true, reason: 'dkim_aligned' });
      expect(result.dkimPassDomains).to.deep.equal(['example.org']);
    });

    it('takes the DKIM domain from header.i when header.d is absent', () => {
      const headers = `${sendgridAr('dkim=pass header.i=@example.org')}\r\n`;
      expect(authenticateSender({ from: 'jo@example.org', headers }).reason).to.equal('dkim_aligned');
    });

    it('authenticates on a trusted spf=pass whose smtp.mailfrom is aligned', () => {
      const headers = `${sendgridAr('spf=pass smtp.mailfrom=bounce@mail.example.org; dkim=none')}\r\n`;
      expect(authenticateSender({ from: 'jo@example.org', headers })).to.include({ authenticated: true, reason: 'spf_aligned', spf: 'pass' });
    });

    it('authenticates on a trusted dmarc=pass only when header.from is the From domain', () => {
      const pass = `${sendgridAr('dmarc=pass (p=reject) header.from=example.org')}\r\n`;
      expect(authenticateSender({ from: 'jo@example.org', headers: pass })).to.include({ authenticated: true, reason: 'dmarc_pass' });
      const other = `${sendgridAr('dmarc=pass header.from=other.example')}\r\n`;
      expect(authenticateSender({ from: 'jo@example.org', headers: other }).authenticated).to.equal(false);
    });

    it('honours a caller-supplied authserv-id allowlist', () => {
      const headers = 'Authentication-Results: mx.clinic.example; dkim=pass header.d=example.org\r\n';
      expect(authenticateSender({ from: 'jo@example.org', headers }).authenticated).to.equal(false);
      expect(authenticateSender({ from: 'jo@example.org', headers, trustedAuthServIds: (id) => id === 'mx.clinic.example' }).authenticated).to.equal(true);
    });

    it('parses Authentication-Results folded over several lines, with comments', () => {
      const headers = [
        'Authentication-Results: mx.sendgrid.net;',
        '\tspf=softfail (domain of transitioning bounce@elsewhere.example) smtp.mailfrom=bounce@elsewhere.example;',
        '  dkim=pass (2048-bit key; secure)',
        '    header.d=example.org header.s=s1 header.b=AbCd;',
        ' dmarc=pass header.from=example.org',
        'Subject: hi',
        '',
      ].join('\r\n');
      const result = authenticateSender({ from: 'jo@example.org', headers });
      expect(result).to.include({ authenticated: true, reason: 'dkim_aligned', spf: 'softfail' });
      expect(result.dkimPassDomains).to.deep.equal(['example.org']);
    });

    it('does not read ARC-Authentication-Results or Received-SPF as evidence', () => {
      const headers = [
        'ARC-Authentication-Results: i=1; mx.sendgrid.net; dkim=pass header.d=example.org',
        'Received-SPF: pass (mx.sendgrid.net: domain of jo@example.org designates 192.0.2.45) envelope-from=jo@example.org; receiver=mx.sendgrid.net',
        '',
      ].join('\n');
      expect(authenticateSender({ from: 'jo@example.org', headers })).to.include({ authenticated: false, reason: 'no_evidence' });
    });

    it('stops at the blank line that ends the header block', () => {
      const headers = `Subject: hi\r\n\r\n${sendgridAr('dkim=pass header.d=example.org')}\r\n`;
      expect(authenticateSender({ from: 'jo@example.org', headers }).authenticated).to.equal(false);
    });

    it('only reads the first 50 Authentication-Results headers', () => {
      const untrusted = Array.from({ length: 50 }, () => 'Authentication-Results: mx.evil.example; none');
      const headers = [...untrusted, sendgridAr('dkim=pass header.d=example.org'), ''].join('\r\n');
      expect(authenticateSender({ from: 'jo@example.org', headers }).authenticated).to.equal(false);
      expect(authenticateSender({ from: 'jo@example.org', headers: [...untrusted.slice(1), sendgridAr('dkim=pass header.d=example.org'), ''].join('\r\n') }).authenticated).to.equal(true);
    });

    it('ignores a header cut by the 64 KB cap, which might name a truncated domain', () => {
      const cut = sendgridAr('dkim=pass header.d=example.org');
      const filler = `X-Filler: ${'a'.repeat(64 * 1024 - 'X-Filler: '.length - 2 - cut.length)}\r\n`;
      // The genuine header names example.org.evil.example; the cap falls right after `example.org`.
      const headers = `${filler}${cut}.evil.example\r\n`;
      expect(headers.slice(0, 64 * 1024).endsWith('header.d=example.org')).to.equal(true);
      expect(authenticateSender({ from: 'jo@example.org', headers }).authenticated).to.equal(false);
    });

    it('survives a throwing allowlist function', () => {
      const headers = `${sendgridAr('dkim=pass header.d=example.org')}\r\n`;
      const result = authenticateSender({ from: 'jo@example.org', headers, trustedAuthServIds: () => { throw new Error('boom'); } });
      expect(result.authenticated).to.equal(false);
    });
  });

  describe('the From address', () => {
    it('accepts a display-name form and takes the address inside the angle brackets', () => {
      const result = authenticateSender({ from: '"Jo, Patient <x@evil.example>" <jo@example.org>', dkim: '{@example.org : pass}' });
      expect(result).to.include({ authenticated: true, fromDomain: 'example.org' });
    });

    it('refuses a From holding several mailboxes', () => {
      expect(authenticateSender({ from: 'jo@evil.example, jo@example.org', dkim: '{@example.org : pass}' }).reason).to.equal('invalid_from');
      expect(authenticateSender({ from: '<jo@evil.example>, <jo@example.org>', dkim: '{@example.org : pass}' }).reason).to.equal('invalid_from');
    });

    it('refuses a From without a valid domain', () => {
      for (const from of ['', 'jo', 'jo@', 'jo@exa mple.org', 'jo@example.org/x', 'jo@[192.0.2.1]']) {
        expect(authenticateSender({ from, dkim: '{@example.org : pass}' }), from).to.include({ authenticated: false, reason: 'invalid_from', fromDomain: '' });
      }
    });
  });

  describe('hostile input', () => {
    it('never throws on garbage or wrongly typed fields', () => {
      const garbage: unknown[] = [undefined, null, 42, {}, [], '{{{{', '}:pass,@', '@:pass', '\u0000\uffff', 'a'.repeat(10_000)];
      for (const value of garbage) {
        const input = { from: value, spf: value, dkim: value, envelopeFrom: value, headers: value, trustedAuthServIds: value } as never;
        const result = authenticateSender(input);
        expect(result.authenticated).to.equal(false);
        expect(result.reason).to.be.a('string');
      }
      expect(authenticateSender(null as never)).to.include({ authenticated: false });
      expect(authenticateSender(undefined as never)).to.include({ authenticated: false });
    });

    it('returns quickly on huge, pathological fields', () => {
      const started = Date.now();
      const headers = [
        `Authentication-Results: mx.sendgrid.net; ${'((((('.repeat(2_000)}`,
        `Authentication-Results: mx.sendgrid.net; ${'dkim=pass; '.repeat(1_000)}`,
        `Authentication-Results: mx.sendgrid.net; dkim=pass ${'"\\'.repeat(2_000)}`,
        '\t"'.repeat(500_000),
      ].join('\r\n');
      const dkim = `{${'@x.example : pass, '.repeat(100_000)}}`;
      const from = `${'"'.repeat(100_000)}${'<'.repeat(100_000)}jo@example.org`;
      const result = authenticateSender({ from, spf: 'pass'.repeat(100_000), dkim, envelopeFrom: '@'.repeat(1_000_000), headers });
      expect(result.authenticated).to.equal(false);
      expect(Date.now() - started).to.be.below(2000);
    });

    it('caps the number of dkim entries it reads', () => {
      const dkim = `{${Array.from({ length: 60 }, (_, i) => `@d${i}.example : pass`).join(', ')}, @example.org : pass}`;
      expect(authenticateSender({ from: 'jo@example.org', dkim }).authenticated).to.equal(false);
    });
  });

  describe('the SendGrid Inbound Parse fixture', () => {
    it('authenticates dana.patient@example.org on its aligned DKIM pass', () => {
      const fields = multipartFields(readFileSync(FIXTURE, 'utf8'), 'xYzZY');
      expect(fields.from).to.equal('Dana Patient <dana.patient@example.org>');
      expect(fields.SPF).to.equal('pass');
      expect(fields.dkim).to.equal('{@example.org : pass}');
      const envelope = JSON.parse(fields.envelope!) as { from?: string };
      const result = authenticateSender({ from: fields.from!, spf: fields.SPF, dkim: fields.dkim, envelopeFrom: envelope.from, headers: fields.headers });
      expect(result).to.deep.equal({ authenticated: true, reason: 'dkim_aligned', fromDomain: 'example.org', spf: 'pass', dkimPassDomains: ['example.org'] });
    });

    it('still authenticates the fixture on SPF alone, through its envelope sender', () => {
      const fields = multipartFields(readFileSync(FIXTURE, 'utf8'), 'xYzZY');
      const envelope = JSON.parse(fields.envelope!) as { from?: string };
      const result = authenticateSender({ from: fields.from!, spf: fields.SPF, dkim: 'none', envelopeFrom: envelope.from, headers: fields.headers });
      expect(result).to.include({ authenticated: true, reason: 'spf_aligned' });
    });
  });
});
