import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';
import { newClientId, startVisitor } from '../../support/widget-visitor.ts';

async function texts(t: TestHub, from: string, body: string): Promise<string> {
  const params = inboundSms({ From: from, Body: body });
  expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
  return (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).conversationId;
}

describe('departments: the patient picks the team, in the widget or from the SMS menu', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'departments', env: { SMS_DEPARTMENT_MENU: 'true', CLINIC_NAME: 'Riverside Clinic' } });
    admin = await t.admin();
    for (const [id, name, label, smsKey] of [['appointments', 'Appointments', 'appointments', '1'], ['billing', 'Billing', 'billing', '2'], ['nurses', 'Nurses', 'a nurse', '3']] as const) {
      expect((await t.api.post('/api/teams', { id, name }, admin.token)).status).to.equal(201);
      const put = await t.api.put(`/api/teams/${id}/department`, { offered: true, label, smsKey }, admin.token);
      expect(put.status, JSON.stringify(put.body)).to.equal(200);
    }
  });
  after(() => t.close());

  const teamOf = async (conversationId: string) => (await t.hub.services.db.models.Conversation.findById(conversationId).lean().orFail()).teamId;

  it('offers the departments in the widget and sends the chat to the one picked', async () => {
    const config = (await t.api.get('/api/widget/config')).body;
    expect(config.departments).to.deep.equal([{ id: 'appointments', label: 'appointments' }, { id: 'billing', label: 'billing' }, { id: 'nurses', label: 'a nurse' }]);
    const visitor = await startVisitor(t, { name: 'Bea Billing', department: 'billing' });
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'a question about my bill' });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    expect(await teamOf(sent.message.conversationId)).to.equal('billing');
    const history = (await t.api.get(`/api/conversations/${sent.message.conversationId}/messages`, admin.token)).body.items as { body: string }[];
    expect(history.map((m) => m.body)).to.include('Routed to Billing: the patient chose it in the chat');
    visitor.socket.disconnect();
  });

  it('refuses a department that is not offered, naming the field', async () => {
    const res = await t.api.post('/api/widget/visitors', { name: 'Nora', department: 'front-desk' });
    expect(res.status).to.equal(400);
    expect(res.body.error.field).to.equal('department');
  });

  it('answers a first text from a new number with the menu, and routes by the digit of the next one', async () => {
    const from = '+14155553501';
    const conversationId = await texts(t, from, 'Hello, I have a question');
    await t.hub.settled();
    const outbox = (await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items as { request: { To: string; Body: string } }[];
    expect(outbox.find((e) => e.request.To === from)!.request.Body).to.equal('Riverside Clinic: Reply 1 for appointments, 2 for billing, 3 for a nurse.');
    expect(await teamOf(conversationId)).to.equal('front-desk');
    await texts(t, from, '3');
    expect(await teamOf(conversationId)).to.equal('nurses');
    // Only the text right after the menu counts: a later digit is just a message.
    await texts(t, from, '2');
    expect(await teamOf(conversationId)).to.equal('nurses');
  });

  it('keeps a conversation where it is when the answer is not a menu digit', async () => {
    const from = '+14155553502';
    const conversationId = await texts(t, from, 'hi');
    await texts(t, from, 'I just want to confirm Friday');
    expect(await teamOf(conversationId)).to.equal('front-desk');
  });

  it('refuses a menu digit another team has (409) and a bad one (400), as admins only', async () => {
    const taken = await t.api.put('/api/teams/front-desk/department', { offered: true, label: 'front desk', smsKey: '2' }, admin.token);
    expect(taken.status).to.equal(409);
    expect(taken.body.error.field).to.equal('smsKey');
    const bad = await t.api.put('/api/teams/front-desk/department', { offered: true, label: 'front desk', smsKey: '0' }, admin.token);
    expect(bad.status).to.equal(400);
    const agent = await t.agent({ name: 'Dee' });
    expect((await t.api.put('/api/teams/front-desk/department', { offered: false }, agent.token)).status).to.equal(403);
  });
});
