import { expect } from 'chai';
import {
  extractPatientText,
  isAutomatedEmail,
  messageIdsFrom,
  parseHeaderBlock,
  sanitizeEmailHtml,
} from '../../channels/email/inbound-content.ts';

const headersOf = (lines: string[]) => parseHeaderBlock(lines.join('\r\n'));

describe('inbound email content', () => {
  describe('extractPatientText', () => {
    it('drops a Gmail-style "On ... wrote:" quote and keeps the reply above it', () => {
      const text = [
        'Hi, I need to move my appointment to Friday.',
        '',
        'Jane',
        '',
        'On Mon, Nov 23, 2026 at 9:00 AM Clinic <care@example.org> wrote:',
        '> Your appointment is on Tuesday at 3pm.',
        '> Reply to this email to change it.',
        '',
      ].join('\r\n');
      const result = extractPatientText({ text });
      expect(result).to.contain('move my appointment to Friday');
      expect(result).not.to.contain('wrote:');
      expect(result).not.to.contain('Tuesday');
      expect(result).not.to.contain('\r');
    });

    it('drops lines quoted with ">"', () => {
      const text = 'Yes, 3pm works for me.\n\n> Can you come in at 3pm?\n> Example Clinic\n';
      expect(extractPatientText({ text })).to.equal('Yes, 3pm works for me.');
    });

    it('drops an Outlook "-----Original Message-----" block with its From/Sent header', () => {
      const text = [
        'Please call me back about my lab results.',
        '',
        '-----Original Message-----',
        'From: Example Clinic <care@example.org>',
        'Sent: Monday, November 23, 2026 9:00 AM',
        'To: Jane Example <jane@example.org>',
        'Subject: Your results',
        '',
        'Your results are ready.',
      ].join('\n');
      expect(extractPatientText({ text })).to.equal('Please call me back about my lab results.');
    });

    it('drops an Outlook "From: ... Sent: ..." header block without the separator line', () => {
      const text = [
        'Please call me back.',
        '',
        'From: Example Clinic <care@example.org>',
        'Sent: Monday, November 23, 2026 9:00 AM',
        'Subject: Your results',
        '',
        'Your results are ready.',
      ].join('\n');
      expect(extractPatientText({ text })).to.equal('Please call me back.');
    });

    it('drops an Outlook header block even with no blank line above it', () => {
      const text = [
        'Please call me back.',
        'From: Example Clinic <care@example.org>',
        'Sent: Monday, November 23, 2026 9:00 AM',
        'Your results are ready.',
      ].join('\n');
      expect(extractPatientText({ text })).to.equal('Please call me back.');
      const separated = 'Please call me back.\n-----Original Message-----\nFrom: Example Clinic <care@example.org>\n\nYour results are ready.';
      expect(extractPatientText({ text: separated })).to.equal('Please call me back.');
    });

    it('keeps a patient line that merely starts with "From:"', () => {
      const text = 'From: what my doctor said, I should rest.\nSent me the forms please.';
      expect(extractPatientText({ text })).to.equal(text);
    });

    it('drops a "Sent from my iPhone" signature', () => {
      expect(extractPatientText({ text: 'Can I get a refill of my prescription?\n\nSent from my iPhone' })).to.equal(
        'Can I get a refill of my prescription?',
      );
    });

    it('keeps what the patient wrote below a sign-off or a "--" line', () => {
      const ps = 'I need a refill.\n\nRegards,\nJane\nP.S. I have had chest pain since Monday.';
      expect(extractPatientText({ text: ps })).to.contain('chest pain since Monday');
      const dashed = 'Question:\n--\nIs the clinic open on Saturday?';
      expect(extractPatientText({ text: dashed })).to.contain('open on Saturday?');
    });

    it('turns an HTML-only mail into text without tags, image noise or link URLs, and drops the quote', () => {
      const html = [
        '<html><head><style>p{color:red}</style><title>Re: Appointment</title></head><body>',
        '<div dir="ltr">Hi,<div>I need to <b>move</b> my appointment. See <a href="https://track.example.org/c/abc">my portal</a>',
        '<img src="cid:logo" alt="Example logo"></div><div>Jane</div></div>',
        '<div class="gmail_quote"><div class="gmail_attr">On Mon, Nov 23, 2026 at 9:00 AM Clinic &lt;<a href="mailto:care@example.org">care@example.org</a>&gt; wrote:<br></div>',
        '<blockquote class="gmail_quote"><div>Your appointment is on Tuesday.</div></blockquote></div>',
        '<script>alert(1)</script></body></html>',
      ].join('');
      const result = extractPatientText({ html });
      expect(result).to.contain('I need to move my appointment. See my portal');
      expect(result).to.contain('Jane');
      expect(result).not.to.match(/[<>]/);
      expect(result).not.to.contain('track.example.org');
      expect(result).not.to.contain('Example logo');
      expect(result).not.to.contain('alert');
      expect(result).not.to.contain('Tuesday');
    });

    it('drops an Outlook HTML reply header and the horizontal rule above it', () => {
      const html =
        '<div>Please call me back.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Example Clinic &lt;care@example.org&gt;<br>' +
        '<b>Sent:</b> Monday, November 23, 2026 9:00 AM<br><b>Subject:</b> Results</div><div>Your results are ready.</div>';
      expect(extractPatientText({ html })).to.equal('Please call me back.');
    });

    it('prefers the text part when both parts are present', () => {
      expect(extractPatientText({ text: 'From the text part', html: '<p>From the HTML part</p>' })).to.equal('From the text part');
    });

    it('falls back to the HTML part when the text part is blank', () => {
      expect(extractPatientText({ text: ' \r\n ', html: '<p>Only in HTML</p>' })).to.equal('Only in HTML');
    });

    it('falls back to the whole trimmed text when the mail is only a quote', () => {
      const text = '\nOn Mon, Nov 23, 2026 at 9:00 AM Clinic <care@example.org> wrote:\n> Your appointment is on Tuesday.\n';
      const result = extractPatientText({ text });
      expect(result).not.to.equal('');
      expect(result).to.equal(text.trim());
    });

    it('falls back to the whole text when the mail is only a sign-off', () => {
      expect(extractPatientText({ text: 'Sent from my iPhone' })).to.equal('Sent from my iPhone');
    });

    it('returns an empty string only for a mail with no content at all', () => {
      expect(extractPatientText({})).to.equal('');
      expect(extractPatientText({ text: '  \n ', html: '<p> </p>' })).to.equal('');
    });

    it('normalizes CRLF and collapses three or more blank lines to two', () => {
      expect(extractPatientText({ text: 'First line  \r\n\r\n\r\n\r\n\r\nSecond line\r\n' })).to.equal('First line\n\n\nSecond line');
    });

    it('keeps every word of a very long mail instead of cutting it where parsing stops', () => {
      const text = `${'I have a question about my medication schedule.\n'.repeat(600)}The last line matters too.`;
      const result = extractPatientText({ text });
      expect(result.length).to.equal(text.length);
      expect(result.endsWith('The last line matters too.')).to.equal(true);
    });

    it('stays fast on a hostile single long line that makes the quote regexes backtrack', () => {
      const started = Date.now();
      const result = extractPatientText({ text: 'On a b '.repeat(50_000) });
      expect(result.length).to.be.greaterThan(0);
      expect(Date.now() - started).to.be.lessThan(2_000);
    });
  });

  describe('extractPatientText: signature blocks', () => {
    const body = 'Can I move my appointment to Friday?\n\nRegards,\nJosé';
    const signature = ['-- ', 'José Müller', 'Riverside Clinic patient portal', '+1 555-555-0100', 'jose@example.org'];

    it('removes a 4-line signature below the "-- " delimiter and keeps the sign-off above it', () => {
      expect(extractPatientText({ text: [body, ...signature].join('\n') })).to.equal(body);
      expect(extractPatientText({ text: [body, '', ...signature, ''].join('\r\n') })).to.equal(body);
    });

    it('removes a signature below a bare "--" alone on its line, as HTML conversion leaves it', () => {
      expect(extractPatientText({ text: `${body}\n--\nJosé Müller\n+1 555-555-0100` })).to.equal(body);
      const html =
        '<div dir="ltr">Can I move my appointment to Friday?<br><br><span class="gmail_signature_prefix">-- </span><br>' +
        '<div class="gmail_signature">José Müller<br>+1 555-555-0100</div></div>';
      expect(extractPatientText({ html })).to.equal('Can I move my appointment to Friday?');
    });

    it('keeps a "-- " block of 30 lines: too long to be a signature', () => {
      const lines = Array.from({ length: 30 }, (_, i) => `Day ${i + 1}: the rash spread a little`);
      const text = [body, '-- ', ...lines].join('\n');
      expect(extractPatientText({ text })).to.equal([body, '--', ...lines].join('\n'));
    });

    it('keeps a postscript that follows the signature, and one inside it', () => {
      const after = [body, ...signature, '', 'P.S. I have had chest pain since Monday.'].join('\n');
      expect(extractPatientText({ text: after })).to.equal(`${body}\n\nP.S. I have had chest pain since Monday.`);
      const inside = [body, '-- ', 'José Müller', 'PS: my new number is 555-555-0199', '+1 555-555-0100'].join('\n');
      expect(extractPatientText({ text: inside })).to.equal(`${body}\n\nPS: my new number is 555-555-0199\n+1 555-555-0100`);
      const pps = [body, ...signature, 'P.P.S. Bring my son too'].join('\n');
      expect(extractPatientText({ text: pps })).to.contain('P.P.S. Bring my son too');
    });

    it('keeps a postscript after a sign-off such as "Thanks,\\nAna"', () => {
      const text = 'I need a refill of my inhaler.\n\nThanks,\nAna\n\nP.S. The pharmacy on Main Street, please.';
      expect(extractPatientText({ text })).to.equal(text);
    });

    it('keeps a question below a delimiter, and a sentence below a bare "--"', () => {
      const question = 'See you Friday.\n-- \nAna\nCan someone call me back?';
      expect(extractPatientText({ text: question })).to.contain('Can someone call me back?');
      const sentence = 'Update:\n--\nI have had a fever for three days now.';
      expect(extractPatientText({ text: sentence })).to.equal(sentence);
    });

    it('removes only the short block when a long typed section sits above it', () => {
      const typed = Array.from({ length: 12 }, (_, i) => `Note ${i + 1}`);
      const text = ['Hi,', '--', ...typed, ...signature].join('\n');
      expect(extractPatientText({ text })).to.equal(['Hi,', '--', ...typed].join('\n'));
    });

    it('keeps a body that is only a signature whole', () => {
      expect(extractPatientText({ text: signature.join('\n') })).to.equal(['--', ...signature.slice(1)].join('\n'));
    });

    it('stays fast on thousands of delimiter lines and on a long run of spaces inside a line', () => {
      const started = Date.now();
      const result = extractPatientText({ text: `Hello\n${'--\nJosé\n'.repeat(20_000)}P.S. end` });
      expect(result).to.contain('P.S. end');
      expect(extractPatientText({ text: `a${' '.repeat(50_000)}b` })).to.have.length(50_002);
      expect(Date.now() - started).to.be.lessThan(2_000);
    });
  });

  describe('extractPatientText: device footers', () => {
    const question = 'Can I get a refill of my prescription?';

    it('removes English phone and app footers alone on the last line', () => {
      const footers = [
        'Sent from my iPhone',
        'Sent from my iPad',
        'Sent from my Galaxy',
        'Sent from my Samsung Galaxy smartphone.',
        'Sent from my Android',
        'Sent from my iPhone 15 Pro Max',
        'Get Outlook for iOS',
        'Get Outlook for Android',
        'Get Outlook for iOS<https://aka.ms/o0ukef>',
        'Sent from Yahoo Mail for iPhone',
        'Sent from Mail for Windows',
      ];
      for (const footer of footers) {
        expect(extractPatientText({ text: `${question}\n\n${footer}` }), footer).to.equal(question);
      }
    });

    it('removes the Spanish and Italian iPhone footers (and a few other languages)', () => {
      for (const footer of ['Enviado desde mi iPhone', 'Inviato da iPhone', 'Inviato dal mio iPhone', 'Envoyé de mon iPhone', 'Von meinem iPhone gesendet']) {
        expect(extractPatientText({ text: `${question}\n\n${footer}\n` }), footer).to.equal(question);
      }
    });

    it('removes a footer above a signature block, and one inside it', () => {
      expect(extractPatientText({ text: `${question}\n\nSent from my iPhone\n-- \nAna` })).to.equal(question);
      expect(extractPatientText({ text: `${question}\n-- \nAna\n\nSent from my iPhone` })).to.equal(question);
    });

    it('keeps a "Sent from" line that says more than the device', () => {
      for (const line of ["Sent from my mother's phone, she is the patient", 'Sent from my phone so excuse typos']) {
        expect(extractPatientText({ text: `${question}\n\n${line}` }), line).to.equal(`${question}\n\n${line}`);
      }
    });

    it('keeps a footer that is not on the last line', () => {
      const text = `${question}\n\nSent from my iPhone\n\nP.S. It is the blue inhaler.`;
      expect(extractPatientText({ text })).to.equal(text);
    });
  });

  describe('sanitizeEmailHtml', () => {
    it('removes scripts, event handlers, javascript: links and iframes', () => {
      const dirty =
        '<p>Hello<script>alert("x")</script></p><img src="x" onerror="alert(1)"><a href="javascript:alert(1)">click</a>' +
        '<a href="JaVaScRiPt:alert(2)">again</a><iframe src="https://evil.example.org">frame text</iframe><p onclick="steal()">Hi</p>';
      const clean = sanitizeEmailHtml(dirty);
      expect(clean).not.to.match(/script|onerror|onclick|javascript|iframe|frame text|<img/i);
      expect(clean).to.contain('<p>Hello</p>');
      expect(clean).to.contain('<p>Hi</p>');
    });

    it('keeps bold text and https links', () => {
      const clean = sanitizeEmailHtml('<b>Important</b> <a href="https://portal.example.org/visit">portal</a>');
      expect(clean).to.equal('<b>Important</b> <a href="https://portal.example.org/visit">portal</a>');
    });

    it('keeps mailto links and drops data:, protocol-relative hrefs, styles and classes', () => {
      const clean = sanitizeEmailHtml(
        '<a href="mailto:jane@example.org">mail</a><a href="data:text/html,x">d</a><a href="//evil.example.org">p</a>' +
          '<p style="position:fixed" class="x">styled</p><style>body{}</style>',
      );
      expect(clean).to.contain('<a href="mailto:jane@example.org">mail</a>');
      expect(clean).not.to.match(/data:|evil|style=|class=|<style|body\{/);
      expect(clean).to.contain('<p>styled</p>');
    });
  });

  describe('parseHeaderBlock', () => {
    it('unfolds continuation lines and lowercases names', () => {
      const headers = headersOf(['Subject: Question about my', '\tappointment next week', 'Content-Type: text/plain;', ' charset="utf-8"']);
      expect(headers.get('subject')).to.deep.equal(['Question about my\tappointment next week']);
      expect(headers.get('content-type')).to.deep.equal(['text/plain; charset="utf-8"']);
      expect(headers.has('Subject')).to.equal(false);
    });

    it('keeps repeated headers in order', () => {
      const headers = headersOf(['Received: from a.example.org', 'RECEIVED: from b.example.org', 'received: from c.example.org']);
      expect(headers.get('received')).to.deep.equal(['from a.example.org', 'from b.example.org', 'from c.example.org']);
    });

    it('accepts LF-only blocks and stops at the blank line that ends the header section', () => {
      const headers = parseHeaderBlock('From: Jane Example <jane@example.org>\nTo: care@example.org\n\nBody: not a header\n');
      expect(headers.get('from')).to.deep.equal(['Jane Example <jane@example.org>']);
      expect(headers.has('body')).to.equal(false);
    });
  });

  describe('isAutomatedEmail', () => {
    const person = 'Jane Example <jane@example.org>';

    it('is true for Auto-Submitted: auto-replied', () => {
      expect(isAutomatedEmail(headersOf(['Auto-Submitted: auto-replied']), person)).to.equal(true);
    });

    it('is true for mail from mailer-daemon or postmaster', () => {
      expect(isAutomatedEmail(new Map(), 'Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>')).to.equal(true);
      expect(isAutomatedEmail(new Map(), 'mailer-daemon@example.org')).to.equal(true);
      expect(isAutomatedEmail(new Map(), 'MAILER-DAEMON')).to.equal(true);
      expect(isAutomatedEmail(new Map(), 'postmaster@example.org')).to.equal(true);
    });

    it('is true for a multipart/report delivery status notification', () => {
      const headers = headersOf(['Content-Type: multipart/report; report-type=delivery-status;', ' boundary="abc"']);
      expect(isAutomatedEmail(headers, person)).to.equal(true);
    });

    it('is true for Precedence: bulk and for X-Autoreply', () => {
      expect(isAutomatedEmail(headersOf(['Precedence: bulk']), person)).to.equal(true);
      expect(isAutomatedEmail(headersOf(['X-Autoreply: yes']), person)).to.equal(true);
    });

    it('is true for a null Return-Path', () => {
      expect(isAutomatedEmail(headersOf(['Return-Path: <>']), person)).to.equal(true);
    });

    it('is false for a normal Outlook mail with X-Auto-Response-Suppress: OOF and Auto-Submitted: no', () => {
      const headers = headersOf([
        'From: Jane Example <jane@example.org>',
        'X-Auto-Response-Suppress: All, OOF',
        'Auto-Submitted: no',
        'Content-Type: multipart/alternative; boundary="b1"',
        'Return-Path: <jane@example.org>',
      ]);
      expect(isAutomatedEmail(headers, person)).to.equal(false);
    });
  });

  describe('messageIdsFrom', () => {
    it('reads Message-ID, In-Reply-To and multi-line References keeping case and brackets', () => {
      const headers = headersOf([
        'Message-ID:  <CAJane.Reply-1@mail.example.org> ',
        'In-Reply-To: <Msg-2@care.example.org>',
        'References: <Msg-1@care.example.org>',
        '\t<Msg-1b@care.example.org>',
        ' <Msg-2@care.example.org>',
      ]);
      expect(messageIdsFrom(headers)).to.deep.equal({
        messageId: '<CAJane.Reply-1@mail.example.org>',
        inReplyTo: ['<Msg-2@care.example.org>'],
        references: ['<Msg-1@care.example.org>', '<Msg-1b@care.example.org>', '<Msg-2@care.example.org>'],
      });
    });

    it('gives null and empty lists when the headers are missing', () => {
      expect(messageIdsFrom(new Map())).to.deep.equal({ messageId: null, inReplyTo: [], references: [] });
    });
  });
});
