import { expect } from 'chai';
import { patientWrites, startTestHub, waitFor, type TestHub } from '../../support/test-hub.ts';

describe('PHI-safe notifications', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'phisafe', env: { PHI_SAFE_NOTIFICATIONS: 'true', CLINIC_NAME: 'Lakeside Clinic', SECURE_LINK_TTL_HOURS: '24' } });
  });
  after(() => t.close());

  async function outboxEntryFor(messageId: string) {
    const admin = await t.admin();
    return waitFor(async () => (await t.api.get('/api/dev/outbox', admin.token)).body.items.find((e: { messageId: string }) => e.messageId === messageId));
  }

  it('texts only a notice and a signed link; agents still see the real reply', async () => {
    const admin = await t.admin();
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155551001', body: 'my results?' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Your HbA1c is 9.1%' }, admin.token);
    const entry = await outboxEntryFor(reply.body.id);
    expect(entry.request.Body).to.match(/^You have a new secure message from Lakeside Clinic\. Read it here: http:\/\/localhost:\d+\/m\/[\w-]+\.[\w-]+$/);
    expect(entry.request.Body).not.to.include('HbA1c');
    const history = await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, admin.token);
    expect(history.body.items.at(-1).body).to.equal('Your HbA1c is 9.1%');

    const link = new URL(entry.request.Body.split('Read it here: ')[1]);
    const landing = await fetch(`${t.url}${link.pathname}`);
    expect(landing.status).to.equal(200);
    const html = await landing.text();
    expect(html).to.include('Lakeside Clinic').and.not.include('HbA1c').and.not.include('4155551001');
    expect((await fetch(`${t.url}${link.pathname.slice(0, -3)}xyz`)).status).to.equal(404);
    t.clock.advance(25 * 3600_000);
    expect((await fetch(`${t.url}${link.pathname}`)).status).to.equal(404);
  });

  it('emails only a notice, with a subject that says nothing about the content', async () => {
    const admin = await t.admin();
    const inbound = await patientWrites(t, { channel: 'email', from: 'safe@example.org', body: 'question' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Biopsy benign' }, admin.token);
    const entry = await outboxEntryFor(reply.body.id);
    expect(entry.request.subject).to.equal('New secure message from Lakeside Clinic');
    expect(JSON.stringify(entry.request)).not.to.include('Biopsy');
  });

  it('sends the hub’s own safety reply as written (no PHI in it), not behind a link', async () => {
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155551009', body: 'I have crushing chest pain' });
    const admin = await t.admin();
    const history = await waitFor(async () => {
      const items = (await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, admin.token)).body.items as { id: string; channelReason: string | null }[];
      return items.find((m) => m.channelReason === 'triage_safety_reply');
    });
    const entry = await outboxEntryFor(history.id);
    expect(entry.request.Body).to.match(/911/);
    expect(entry.request.Body).to.not.match(/secure message/);
  });
});
