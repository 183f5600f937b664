import { expect } from 'chai';
import { recordConsent } from '../../../server/timeline/consent.ts';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { patientWrites, startTestHub, waitFor, type TestHub } from '../../support/test-hub.ts';

describe('inbox support: saved replies and the first email’s subject', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'inbox-support' });
  });
  after(() => t.close());

  it('keeps a saved-reply library per team: agents read their team’s, only its supervisors and admins change it', async () => {
    const admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    const agent = await t.agent({ name: 'Front Desk Fran' });
    const billingLead = await t.agent({ name: 'Billing Bo', role: 'supervisor', teamIds: ['billing'] });
    const hours = { teamId: 'front-desk', shortcut: 'hours', title: 'Opening hours', body: 'We are open 8 to 6, Monday to Friday.' };
    expect((await t.api.post('/api/canned-responses', hours, agent.token)).status).to.equal(403);
    expect((await t.api.post('/api/canned-responses', hours, billingLead.token)).status).to.equal(403);
    expect((await t.api.post('/api/canned-responses', hours, admin.token)).status).to.equal(201);
    const again = await t.api.post('/api/canned-responses', hours, admin.token);
    expect(again.status).to.equal(409);
    expect(again.body.error.field).to.equal('shortcut');
    expect((await t.api.post('/api/canned-responses', { ...hours, shortcut: 'Bad Shortcut' }, admin.token)).body.error.field).to.equal('shortcut');
    const billing = await t.api.post('/api/canned-responses', { teamId: 'billing', shortcut: 'pay', title: 'Paying', body: 'Pay online at our portal.' }, billingLead.token);
    expect(billing.status).to.equal(201);

    const mine = await t.api.get('/api/canned-responses', agent.token);
    expect(mine.body.items.map((c: { shortcut: string }) => c.shortcut)).to.deep.equal(['hours']);
    expect((await t.api.request('DELETE', `/api/canned-responses/${encodeURIComponent(billing.body.id)}`, undefined, agent.token)).status).to.equal(403);
    expect((await t.api.request('DELETE', `/api/canned-responses/${encodeURIComponent(billing.body.id)}`, undefined, billingLead.token)).status).to.equal(204);
  });

  it('gives the conversation’s first email the agent’s subject and answers it as "Re: …" after', async () => {
    const admin = await t.admin();
    // A patient who texted, with a verified email on file and consent to email: the agent starts the email thread.
    const texted = await patientWrites(t, { channel: 'sms', from: '+13035550170', body: 'can you email me the forms?' });
    await attachIdentity(t.hub.services.timeline, texted.patientId, { kind: 'email', value: 'subject.test@example.org' }, { evidence: 'agent_promotion' });
    await recordConsent(t.hub.services.timeline, texted.patientId, 'email', 'opted_in', 'front_desk_form');
    const conversation = texted.conversation.id;
    const first = await t.api.post(`/api/conversations/${conversation}/messages`, { body: 'Your forms', channel: 'email', subject: 'Forms for your visit' }, admin.token);
    const second = await t.api.post(`/api/conversations/${conversation}/messages`, { body: 'One more', channel: 'email', subject: 'Ignored now' }, admin.token);
    const sent = (id: string) => waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: { subject: string } }[]).find((e) => e.messageId === id));
    expect((await sent(first.body.id)).request.subject).to.equal('Forms for your visit');
    expect((await sent(second.body.id)).request.subject).to.equal('Re: Forms for your visit');
  });

  it('labels a conversation with the number it started from when the patient gave no name', async () => {
    const admin = await t.admin();
    const texted = await patientWrites(t, { channel: 'sms', from: '(303) 555-0171', body: 'no name here' });
    const conversation = await t.api.get(`/api/conversations/${texted.conversation.id}`, admin.token);
    expect(conversation.body).to.include({ patientName: null, patientContact: '+13035550171' });
    // Sealed at rest like every contact detail.
    const raw = await t.hub.services.db.models.Conversation.collection.findOne({ _id: texted.conversation.id as never });
    expect(JSON.stringify(raw)).not.to.include('3035550171');
  });

  it('counts active and unread conversations per view, and a read or an assignment moves the numbers', async () => {
    const agent = await t.agent({ name: 'Counting Cora' });
    const counts = async () => (await t.api.get('/api/conversations/counts', agent.token)).body as Record<'mine' | 'unassigned' | 'teams' | 'all', { active: number; unread: number }>;
    const before = await counts();
    const texted = await patientWrites(t, { channel: 'sms', from: '+13035550172', body: 'count me' });
    const after = await counts();
    expect(after.unassigned).to.deep.equal({ active: before.unassigned.active + 1, unread: before.unassigned.unread + 1 });
    expect(after.teams.unread).to.equal(before.teams.unread + 1);
    expect(after.mine).to.deep.equal(before.mine);

    await t.api.post(`/api/conversations/${texted.conversation.id}/assign`, { assigneeId: 'me' }, agent.token);
    await t.api.post(`/api/conversations/${texted.conversation.id}/read`, {}, agent.token);
    const done = await counts();
    expect(done.mine).to.deep.equal({ active: before.mine.active + 1, unread: before.mine.unread });
    expect(done.unassigned).to.deep.equal(before.unassigned);
  });
});
