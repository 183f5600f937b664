import { expect } from 'chai';
import iconv from 'iconv-lite';
import { TINY_PNG } from '../../support/sample-files.ts';
import { postRawInboundEmail } from '../../support/inbound-email.ts';
import { startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

const GERMAN = 'Ich möchte meinen Termin verschieben. Grüße, José Müller';

/** The fields Inbound Parse posts for a mail from `from`, authenticated (DKIM aligned, SPF pass). */
function parseFields(from: string, over: Record<string, string | Buffer>, headers = ''): Record<string, string | Buffer> {
  const domain = from.split('@')[1]!;
  return {
    headers: `From: ${from}\r\nSubject: Termin\r\nMessage-ID: <m-${Math.random().toString(36).slice(2)}@mail.${domain}>\r\n${headers}`,
    from,
    to: 'clinic@inbound.hub.example.com',
    subject: 'Termin',
    SPF: 'pass',
    dkim: `{@${domain} : pass}`,
    envelope: JSON.stringify({ to: ['clinic@inbound.hub.example.com'], from }),
    ...over,
  };
}

describe('inbound email as SendGrid Inbound Parse really posts it', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'email-inbound-content' });
    admin = await t.admin();
  });
  after(() => t.close());

  const lastMessageFrom = async (address: string) => {
    const messages = await t.hub.services.db.models.Message.find({}).sort({ createdAt: -1 }).lean();
    for (const m of messages) {
      const identity = m.senderIdentityId ? await t.hub.services.db.models.Identity.findById(m.senderIdentityId).lean() : null;
      if (identity && t.hub.services.timeline.cipher.decrypt(identity.valueEnc) === address) return m;
    }
    throw new Error(`no message from ${address}`);
  };
  const record = async (conversationId: string, messageId: string) =>
    ((await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token)).body.items as any[]).find((m) => m.id === messageId);

  for (const charset of ['ISO-8859-1', 'windows-1252']) {
    it(`decodes a ${charset} mail from its bytes: no replacement characters, nothing said on the message`, async () => {
      const from = `${charset.toLowerCase()}@example.de`;
      const text = `${GERMAN}${charset === 'windows-1252' ? ' – “Zuzahlung” 20 €' : ''}`;
      const res = await postRawInboundEmail(t, parseFields(from, {
        text: iconv.encode(text, charset),
        subject: iconv.encode('Über meinen Termin', charset),
        charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: charset, from: 'UTF-8', text: charset }),
      }));
      expect(res.status).to.equal(200);
      const message = await lastMessageFrom(from);
      const shown = await record(message.conversationId, message._id);
      expect(shown.body).to.equal(text);
      expect(shown.body).to.not.include('\uFFFD');
      expect(shown.receptionNote).to.equal(null);
      const conversation = (await t.api.get(`/api/conversations/${message.conversationId}`, admin.token)).body;
      expect(conversation.subject).to.equal('Über meinen Termin');
    });
  }

  it('decodes ISO-2022-JP (Japanese mail)', async () => {
    const from = 'tanaka@example.jp';
    // 予約 (appointment) in ISO-2022-JP: ESC $ B, the JIS X 0208 bytes, ESC ( B.
    const bytes = Buffer.from([0x1b, 0x24, 0x42, 0x4d, 0x3d, 0x4c, 0x73, 0x1b, 0x28, 0x42]);
    await postRawInboundEmail(t, parseFields(from, { text: bytes, charsets: JSON.stringify({ text: 'ISO-2022-JP' }) }));
    expect(t.hub.services.timeline.cipher.decrypt((await lastMessageFrom(from)).bodyEnc)).to.equal('予約');
  });

  it('falls back on an unknown charset without damaging the text, and says so on the message', async () => {
    const from = 'unknown-charset@example.de';
    await postRawInboundEmail(t, parseFields(from, { text: iconv.encode(GERMAN, 'latin1'), charsets: JSON.stringify({ text: 'x-mac-klingon' }) }));
    const message = await lastMessageFrom(from);
    const shown = await record(message.conversationId, message._id);
    expect(shown.body).to.equal(GERMAN);
    expect(shown.receptionNote).to.match(/x-mac-klingon/);
  });

  it('keeps the whole mail for "show original" while the body shows what the patient wrote', async () => {
    const from = 'long-signature@example.org';
    const text = 'Can I come at 3 instead?\n\nThanks,\nAna\n\nP.S. I will bring my insurance card.\n\n-- \nAna Ruiz\nSenior Designer, Acme\n+1 555 555 0100\nwww.acme.example\n\nOn Mon, Nov 23, 2026 at 6:40 AM Riverside Clinic <appointments@hub.example.com> wrote:\n> Hi Ana, we can offer Friday 9:30am.';
    await postRawInboundEmail(t, parseFields(from, { text, html: `<p>Can I come at 3 instead?</p><script>alert(1)</script><img src="https://tracker.example/pixel.gif">`, charsets: JSON.stringify({ text: 'UTF-8', html: 'UTF-8' }) }));
    const message = await lastMessageFrom(from);
    const shown = await record(message.conversationId, message._id);
    expect(shown.body).to.include('Can I come at 3 instead?');
    expect(shown.body).to.include('P.S. I will bring my insurance card.');
    expect(shown.body).to.not.include('Senior Designer');
    expect(shown.body).to.not.include('we can offer Friday');
    expect(shown.hasOriginal).to.equal(true);
    const original = await t.api.get(`/api/conversations/${message.conversationId}/messages/${message._id}/original`, admin.token);
    expect(original.status).to.equal(200);
    expect(original.body.text).to.equal(text);
    expect(original.body.html).to.equal('<p>Can I come at 3 instead?</p>');
  });

  it('marks inline images with their content-id and points the original HTML at the hub’s attachment URLs', async () => {
    const from = 'inline-photo@example.org';
    await postRawInboundEmail(
      t,
      parseFields(from, {
        text: 'Here is the rash.',
        html: '<p>Here is the rash.</p><img src="cid:ii_rash01" alt="rash"><img src="cid:unknown">',
        'attachment-info': JSON.stringify({ attachment1: { filename: 'rash.png', name: 'rash.png', type: 'image/png', 'content-id': 'ii_rash01' } }),
        'content-ids': JSON.stringify({ ii_rash01: 'attachment1' }),
        attachments: '1',
        charsets: JSON.stringify({ text: 'UTF-8', html: 'UTF-8' }),
      }),
      [{ field: 'attachment1', name: 'rash.png', type: 'image/png', data: TINY_PNG }],
    );
    const message = await lastMessageFrom(from);
    expect(message.attachments.map((a) => a.contentId)).to.deep.equal(['ii_rash01']);
    const shown = await record(message.conversationId, message._id);
    expect(shown.attachments[0]).to.include({ inline: true, unavailable: null });
    const original = await t.api.get(`/api/conversations/${message.conversationId}/messages/${message._id}/original`, admin.token);
    const url = `/api/conversations/${message.conversationId}/messages/${message._id}/attachments/0`;
    expect(original.body.html).to.equal(`<p>Here is the rash.</p><img src="${url}" data-attachment-index="0" alt="rash" />`);
    const image = await fetch(`${t.url}${url}`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(Buffer.from(await image.arrayBuffer()).equals(TINY_PNG)).to.equal(true);
  });

  it('stores an out-of-office reply as an automatic-reply event: no unread, no preview, no reopening', async () => {
    const from = 'vacation@example.org';
    await postRawInboundEmail(t, parseFields(from, { text: 'Where is my prescription?' }));
    const first = await lastMessageFrom(from);
    const conversationId = first.conversationId;
    await t.api.post(`/api/conversations/${conversationId}/read`, {}, admin.token);
    await t.api.post(`/api/conversations/${conversationId}/resolve`, {}, admin.token);
    const before = (await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body;
    await postRawInboundEmail(t, parseFields(from, { text: 'I am out of the office until Monday.', subject: 'Automatic reply: Your prescription' }, 'Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n'));
    const after = (await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body;
    expect(after).to.include({ status: 'resolved', unreadCount: 0, lastInboundChannel: before.lastInboundChannel });
    expect(after.preview).to.deep.equal(before.preview);
    expect(after.lastInboundAt).to.equal(before.lastInboundAt);
    const history = (await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token)).body.items;
    expect(history.at(-1)).to.include({ direction: 'system', kind: 'automatic_reply', channel: 'email', body: 'I am out of the office until Monday.' });
  });
});
