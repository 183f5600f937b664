/**
 * Scheduled messages end to end: through the API, the worker and the sandbox
 * SMS provider, on the real database, with the clock moved by the test.
 */
import { expect } from 'chai';
import { MessageTemplates } from '../../../server/outreach/templates/message-templates.ts';
import { OutboundWebhook } from '../../../server/outreach/outbound-webhook.ts';
import { ScheduledMessages } from '../../../server/outreach/scheduled/scheduled-messages.ts';
import type { TestHub } from '../../support/test-hub.ts';
import { messagesOf, newPatient, REMINDER, schedule, scheduled, setPreferences, settled, smsTo, startOutreachHub, texts, WEDNESDAY } from './outreach-support.ts';

describe('scheduled messages: reminders on the patient’s channel, in their language and time', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startOutreachHub('scheduled-messages', { OUTREACH_URGENT_KINDS: 'results_ready' });
  });
  after(async () => t?.close());
  beforeEach(() => t.clock.setTo(WEDNESDAY));

  it('sends a reminder once when it is due, in the patient’s language and time zone, recorded in the thread', async () => {
    const phone = '+14155550301';
    const { patientId, conversationId } = await newPatient(t, phone);
    await setPreferences(t, patientId, { language: 'es', timezone: 'America/New_York' });
    const res = await schedule(t, patientId, REMINDER('2027-03-15T13:30:00Z', '2027-03-11T14:00:00Z', { externalRef: 'appt-778' }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ status: 'scheduled', language: 'es', kind: 'reminder', template: 'appointment_reminder', expectsReply: true, externalRef: 'appt-778' });
    // Monday 15 March 09:30 in New York (after the DST change of the 14th), written in Spanish.
    expect(res.body.body).to.include('lunes, 15 de marzo a las 9:30').and.include('Suite 4');
    const listed = await t.api.get(`/api/patients/${patientId}/scheduled-messages`, (await t.admin()).token);
    expect(listed.body.items.map((i: { id: string }) => i.id)).to.deep.equal([res.body.id]);

    t.clock.setTo(new Date('2027-03-11T14:00:30Z'));
    const sent = await settled(t, res.body.id);
    expect(sent).to.include({ status: 'sent', channel: 'sms', conversationId, attempts: 1 });
    await t.hub.settled();
    const texted = await smsTo(t, phone);
    expect(texted).to.have.length(1);
    expect(texted[0]!.body).to.include('Responda C para confirmar');
    const thread = await messagesOf(t, conversationId);
    const reminder = thread.find((m) => m.id === sent.messageId);
    expect(reminder).to.include({ direction: 'outbound', channel: 'sms' });
    expect(reminder.author.type).to.equal('system');
    expect(reminder.body).to.equal(res.body.body);
  });

  it('refuses what would go out with a hole in it, naming the field, and stores nothing', async () => {
    const { patientId } = await newPatient(t, '+14155550302');
    const admin = await t.admin();
    const refused = async (body: Record<string, unknown>) => {
      const res = await schedule(t, patientId, body, admin.token);
      expect(res.status, JSON.stringify(res.body)).to.be.within(400, 409);
      return res.body.error as { code: string; message: string; field?: string };
    };
    const sendAt = '2027-03-11T15:00:00Z';
    expect((await refused({ template: 'appointment_reminder', variables: { appointmentAt: '2027-03-15T13:30:00Z' }, sendAt })).message).to.match(/^variables\.location: /);
    expect((await refused({ template: 'appointment_reminder', sendAt })).message).to.match(/^variables\.appointmentAt: /);
    expect((await refused({ template: 'no_such_template', sendAt })).message).to.include('no template named "no_such_template"');
    expect((await refused({ body: 'Your {{diagnosis}} results', kind: 'results_ready', sendAt })).message).to.include('{{diagnosis}}');
    expect((await refused({ body: 'See you soon', kind: 'follow_up', variables: { location: 'Suite 4' }, sendAt })).message).to.equal('variables.location: the template has no {{location}}');
    expect((await refused({ body: 'See you soon', kind: 'follow_up', variables: { room: '4' }, sendAt })).message).to.include('room');
    expect((await refused({ body: 'See you soon', kind: 'follow_up', sendAt: 'tomorrow morning' })).field).to.equal('sendAt');
    expect((await refused({ body: 'See you soon', kind: 'follow_up', sendAt: '2027-03-09T15:00:00Z' })).message).to.equal('sendAt: in the past');
    expect((await refused({ body: 'See you soon', template: 'follow_up', sendAt })).field).to.equal('template');
    expect((await refused({ body: 'See you soon', sendAt })).field).to.equal('kind');
    expect((await refused({ body: 'See you soon', kind: 'follow_up', sendAt, channel: 'email' })).code).to.equal('NO_IDENTITY_FOR_CHANNEL');
    expect((await refused({ body: 'x'.repeat(1601), kind: 'follow_up', sendAt })).field).to.equal('body');
    const listed = await t.api.get(`/api/patients/${patientId}/scheduled-messages`, admin.token);
    expect(listed.body.items).to.deep.equal([]);
  });

  it('reads a local send time in the patient’s zone: 9:00 stays 9:00 across DST, a skipped time is the end of the gap', async () => {
    const { patientId } = await newPatient(t, '+14155550303');
    await setPreferences(t, patientId, { timezone: 'America/New_York' });
    const at = async (sendAt: string) => {
      const res = await schedule(t, patientId, { body: 'Please bring your insurance card.', kind: 'follow_up', sendAt });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body as { id: string; sendAt: string; timeZone: string };
    };
    expect((await at('2027-03-12T09:00')).sendAt).to.equal('2027-03-12T14:00:00.000Z'); // EST
    expect((await at('2027-03-15T09:00')).sendAt).to.equal('2027-03-15T13:00:00.000Z'); // EDT
    const gap = await at('2027-03-14T02:30'); // the clock skips 02:00-03:00: the gap's end, 03:00 EDT
    expect(gap.sendAt).to.equal('2027-03-14T07:00:00.000Z');
    expect(gap.timeZone).to.equal('America/New_York');
    expect((await at('2027-03-12T14:00:00+01:00')).sendAt).to.equal('2027-03-12T13:00:00.000Z'); // an instant stays an instant

    // Withdrawn before it went out; a second withdrawal says why not.
    const admin = await t.admin();
    const withdrawn = await t.api.delete(`/api/patients/${patientId}/scheduled-messages/${gap.id}`, admin.token);
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
    expect(withdrawn.body.status).to.equal('withdrawn');
    const again = await t.api.delete(`/api/patients/${patientId}/scheduled-messages/${gap.id}`, admin.token);
    expect(again.status).to.equal(409);
    expect(again.body.error.message).to.include('withdrawn');
    expect((await t.api.delete(`/api/patients/${patientId}/scheduled-messages/sch_nope`, admin.token)).status).to.equal(404);
  });

  it('waits out the quiet hours in the patient’s zone: past midnight before the DST change, sent at 08:00 EDT', async () => {
    const phone = '+14155550304';
    const { patientId } = await newPatient(t, phone);
    await setPreferences(t, patientId, { timezone: 'America/New_York' });
    // Saturday 13 March 23:00 EST; quiet until 08:00 on the 14th, which is EDT (12:00 UTC, not 13:00).
    t.clock.setTo(new Date('2027-03-14T04:00:00Z'));
    const res = await schedule(t, patientId, { body: 'Your test kit has shipped.', kind: 'follow_up', sendAt: '2027-03-14T04:00:00Z' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const deferred = await settled(t, res.body.id, (d) => d.deferredUntil !== null);
    expect(deferred.status).to.equal('scheduled');
    expect(deferred.deferredUntil!.toISOString()).to.equal('2027-03-14T12:00:00.000Z');
    expect(await smsTo(t, phone)).to.have.length(0);
    // Waiting for the morning is not "on its way": it can still be withdrawn (here a second one, deferred alike).
    const other = await schedule(t, patientId, { body: 'Your second kit has shipped.', kind: 'follow_up', sendAt: '2027-03-14T04:00:00Z' });
    await settled(t, other.body.id, (d) => d.deferredUntil !== null);
    const withdrawn = await t.api.delete(`/api/patients/${patientId}/scheduled-messages/${other.body.id}`, (await t.admin()).token);
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
    t.clock.setTo(new Date('2027-03-14T12:00:05Z'));
    expect((await settled(t, res.body.id)).status).to.equal('sent');
    await t.hub.settled();
    expect(await smsTo(t, phone)).to.have.length(1);
  });

  it('sends an urgent kind (OUTREACH_URGENT_KINDS) at once, even at night', async () => {
    const phone = '+14155550305';
    const { patientId } = await newPatient(t, phone);
    t.clock.setTo(new Date('2027-03-11T02:00:00Z')); // 02:00 at the clinic (UTC)
    const res = await schedule(t, patientId, { template: 'results_ready', sendAt: '2027-03-11T02:00:00Z' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const sent = await settled(t, res.body.id);
    expect(sent).to.include({ status: 'sent', deferredUntil: null });
    await t.hub.settled();
    const [text] = await smsTo(t, phone);
    // The secure link was made when it went out.
    expect(text!.body).to.match(/your results are ready\. Read them securely here: http:\/\/\S+\/m\/\S+$/);
  });

  it('skips, with the reason in the thread, a reminder the patient can no longer receive (opted out since)', async () => {
    const phone = '+14155550306';
    const { patientId, conversationId } = await newPatient(t, phone);
    const res = await schedule(t, patientId, REMINDER('2027-03-15T13:30:00Z', '2027-03-10T16:00:00Z'));
    expect(res.status).to.equal(201);
    await texts(t, phone, 'STOP');
    t.clock.setTo(new Date('2027-03-10T16:00:05Z'));
    expect(await settled(t, res.body.id)).to.include({ status: 'skipped', reason: 'no_reachable_channel' });
    const thread = await messagesOf(t, conversationId);
    expect(thread.map((m) => m.body)).to.include('Scheduled reminder not sent: the patient cannot be reached by text or email with consent');
    await t.hub.settled();
    expect((await smsTo(t, phone)).filter((m) => m.body.includes('reminder'))).to.have.length(0);
  });

  it('sends each once when two workers claim them at the same moment (as two nodes would)', async () => {
    const phones = ['+14155550321', '+14155550322', '+14155550323', '+14155550324'];
    const ids: string[] = [];
    for (const phone of phones) {
      const { patientId } = await newPatient(t, phone);
      for (const hour of ['16:00', '16:01']) {
        const res = await schedule(t, patientId, { body: `Reminder for ${hour}`, kind: 'follow_up', sendAt: `2027-03-10T${hour}:00Z` });
        expect(res.status).to.equal(201);
        ids.push(res.body.id);
      }
    }
    const c = t.config;
    const timeline = () => t.hub.services.timeline;
    // A second worker on the same store, as another hub node runs one.
    const other = new ScheduledMessages(timeline, {
      clinicName: c.clinicName, clinicTimeZone: c.clinicTimeZone, clinicLanguage: c.clinicLanguage, quietHours: c.quietHours,
      urgentKinds: c.outreach.urgentKinds, replyWindowMs: c.outreach.replyWindowMs,
    }, new MessageTemplates(t.hub.services.db.models, { clinicName: c.clinicName, clinicLanguage: c.clinicLanguage, phiSafe: false }), new OutboundWebhook(timeline, null), () => 'https://example.org/m/x');
    t.clock.setTo(new Date('2027-03-10T16:02:00Z'));
    other.start(20);
    try {
      for (const id of ids) expect((await settled(t, id)).status).to.equal('sent');
    } finally {
      await other.stop();
    }
    await t.hub.settled();
    for (const phone of phones) {
      const bodies = (await smsTo(t, phone)).map((m) => m.body).sort();
      expect(bodies, phone).to.deep.equal(['Reminder for 16:00', 'Reminder for 16:01']);
    }
    const docs = await Promise.all(ids.map((id) => scheduled(t, id)));
    expect(new Set(docs.map((d) => d.messageId)).size).to.equal(ids.length);
  });
});

describe('scheduled messages and templates, tried as an attacker', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startOutreachHub('outreach-attacks');
    const admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
  });
  after(async () => t?.close());

  it('refuses no token, another team, a plain agent on the feed, and oversized input, and leaks nothing', async () => {
    const { patientId } = await newPatient(t, '+14155550601', 'Hidden Patient');
    const admin = await t.admin();
    const scheduledRes = await schedule(t, patientId, { body: 'Secret-Marker-7781 your biopsy', kind: 'follow_up', sendAt: '2027-03-12T15:00:00Z', externalRef: 'appt-x' });
    expect(scheduledRes.status).to.equal(201);
    const id = scheduledRes.body.id as string;

    // No token: every outreach route answers 401.
    for (const [method, path, body] of [
      ['GET', `/api/patients/${patientId}/scheduled-messages`, undefined],
      ['POST', `/api/patients/${patientId}/scheduled-messages`, { body: 'x', kind: 'follow_up', sendAt: '2027-03-12T15:00:00Z' }],
      ['DELETE', `/api/patients/${patientId}/scheduled-messages/${id}`, undefined],
      ['GET', '/api/scheduled-messages', undefined],
      ['GET', '/api/templates', undefined],
      ['POST', '/api/templates/preview', { patientId, template: 'results_ready' }],
    ] as const) {
      const res = await t.api.request(method, path, body);
      expect(res.status, `${method} ${path}`).to.equal(401);
    }

    // Another team's agent and supervisor: the patient (front desk's) is not theirs.
    const outsider = await t.agent({ name: 'Billing agent', teamIds: ['billing'] });
    const outsiderSupervisor = await t.agent({ name: 'Billing lead', role: 'supervisor', teamIds: ['billing'] });
    for (const who of [outsider, outsiderSupervisor]) {
      const list = await t.api.get(`/api/patients/${patientId}/scheduled-messages`, who.token);
      expect(list.status).to.equal(404);
      const withdraw = await t.api.delete(`/api/patients/${patientId}/scheduled-messages/${id}`, who.token);
      expect(withdraw.status).to.equal(404);
      const preview = await t.api.post('/api/templates/preview', { patientId, template: 'results_ready' }, who.token);
      expect(preview.status).to.equal(404);
      for (const res of [list, withdraw, preview]) expect(JSON.stringify(res.body)).not.to.include('Secret-Marker').and.not.to.include('Hidden');
    }
    // The feed: a plain agent is refused; another team's supervisor sees none of this team's messages.
    expect((await t.api.get('/api/scheduled-messages', outsider.token)).status).to.equal(403);
    const theirs = await t.api.get('/api/scheduled-messages?since=2000-01-01T00:00:00Z', outsiderSupervisor.token);
    expect(theirs.status).to.equal(200);
    expect(theirs.body.items).to.deep.equal([]);
    const adminFeed = await t.api.get('/api/scheduled-messages?since=2000-01-01T00:00:00Z', admin.token);
    expect(adminFeed.body.items.map((i: { id: string }) => i.id)).to.include(id);

    // Forged and oversized input: 400 naming the field; nothing stored, nothing withdrawn.
    const bad = async (body: unknown, field: string) => {
      const res = await t.api.post(`/api/patients/${patientId}/scheduled-messages`, body, admin.token);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(JSON.stringify(res.body.error)).to.include(field);
    };
    await bad({ body: 'x', kind: 'follow_up', sendAt: '2027-03-12T15:00:00Z', externalRef: 'r'.repeat(201) }, 'externalRef');
    await bad({ body: 'x', kind: 'follow_up', sendAt: '2027-03-12T15:00:00Z', variables: { $where: 'sleep(1000)' } }, 'variables');
    await bad({ body: 'x', kind: 'follow_up', sendAt: { $gt: '' } }, 'sendAt');
    await bad({ body: 'x', kind: 'follow_up', sendAt: '2027-03-12T15:00:00Z', status: 'sent' }, 'status');
    await bad({ template: '../../etc', sendAt: '2027-03-12T15:00:00Z' }, 'template');
    expect((await t.api.put('/api/templates/x', { kind: 'reminder', bodies: { en: 'y'.repeat(1601) } }, admin.token)).status).to.equal(400);
    expect((await t.api.get('/api/scheduled-messages?limit=100000', admin.token)).status).to.equal(400);
    const listed = await t.api.get(`/api/patients/${patientId}/scheduled-messages`, admin.token);
    expect(listed.body.items.map((i: { id: string; status: string }) => `${i.id}:${i.status}`)).to.deep.equal([`${id}:scheduled`]);
  });
});
