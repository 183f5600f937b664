import { expect } from 'chai';
import { patientWrites, startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

describe('REST: who sees what, and the inbox list', () => {
  let t: TestHub;
  let admin: Session;
  let frontDesk: Session;
  let billing: Session;
  let supervisor: Session;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestHub({ label: 'access' });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    frontDesk = await t.agent({ name: 'Alex Front', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Blair Billing', teamIds: ['billing'] });
    supervisor = await t.agent({ name: 'Sam Super', role: 'supervisor', teamIds: ['front-desk'] });
    ids.a = (await patientWrites(t, { channel: 'sms', from: '+14155550201', body: 'a' })).conversation.id;
    ids.b = (await patientWrites(t, { channel: 'email', from: 'b@example.org', body: 'b' })).conversation.id;
    ids.c = (await patientWrites(t, { channel: 'sms', from: '+14155550203', body: 'c' })).conversation.id;
    // c goes to billing; b is assigned to the front-desk agent.
    expect((await t.api.post(`/api/conversations/${ids.c}/assign`, { teamId: 'billing' }, admin.token)).status).to.equal(200);
    expect((await t.api.post(`/api/conversations/${ids.b}/assign`, { assigneeId: frontDesk.agent.id }, admin.token)).status).to.equal(200);
  });
  after(() => t.close());

  const listIds = async (s: Session, query = '') => {
    const res = await t.api.get(`/api/conversations${query}`, s.token);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return (res.body.items as { id: string }[]).map((c) => c.id);
  };

  it('shows a plain agent only their teams’ conversations', async () => {
    expect(await listIds(frontDesk)).to.have.members([ids.a, ids.b]);
    expect(await listIds(billing)).to.have.members([ids.c]);
    expect(await listIds(admin)).to.include.members([ids.a, ids.b, ids.c]);
  });

  it('answers another team’s conversation exactly like an unknown one (404): nobody learns it exists', async () => {
    const other = await t.api.get(`/api/conversations/${ids.c}/messages`, frontDesk.token);
    const unknown = await t.api.get('/api/conversations/nope-1/messages', frontDesk.token);
    expect(other.status).to.equal(404);
    expect(unknown.status).to.equal(404);
    expect(other.body).to.deep.equal(unknown.body);
    expect(other.body.error.code).to.equal('NOT_FOUND');
    const reply = await t.api.post(`/api/conversations/${ids.c}/messages`, { body: 'hi' }, frontDesk.token);
    expect(reply.status).to.equal(404);
  });

  it('lets an agent open a conversation assigned to them in another team', async () => {
    // Assign billing's conversation to the front-desk agent (admins may assign anyone in the team; move agent to billing first is refused).
    const refused = await t.api.post(`/api/conversations/${ids.c}/assign`, { assigneeId: frontDesk.agent.id }, admin.token);
    expect(refused.status).to.equal(400);
    expect(refused.body.error.field).to.equal('assigneeId');
    await t.hub.services.db.models.Conversation.updateOne({ _id: ids.c }, { $set: { assigneeId: frontDesk.agent.id } });
    expect((await t.api.get(`/api/conversations/${ids.c}`, frontDesk.token)).status).to.equal(200);
    await t.hub.services.db.models.Conversation.updateOne({ _id: ids.c }, { $set: { assigneeId: null } });
  });

  it('keeps supervisors to their teams too', async () => {
    expect(await listIds(supervisor)).to.have.members([ids.a, ids.b]);
    expect((await t.api.get(`/api/conversations/${ids.c}`, supervisor.token)).status).to.equal(404);
  });

  it('keeps admin-only routes for admins', async () => {
    const res = await t.api.post('/api/agents', { email: 'x@test.local', name: 'X', password: 'long-enough-pass' }, frontDesk.token);
    expect(res.status).to.equal(403);
    expect((await t.api.get('/api/dev/outbox', frontDesk.token)).status).to.equal(403);
  });

  it('shows a patient profile only to agents who can see one of their conversations', async () => {
    const conversation = (await t.api.get(`/api/conversations/${ids.a}`, frontDesk.token)).body;
    const profile = await t.api.get(`/api/patients/${conversation.patientId}`, frontDesk.token);
    expect(profile.status).to.equal(200);
    expect(profile.body.identities).to.have.length(1);
    expect(profile.body.identities[0]).to.include({ kind: 'phone', value: '+14155550201', verified: true, trust: 'verified', evidence: 'inbound_sms', shared: false });
    expect(profile.body.consent.sms.status).to.equal('opted_in');
    expect((await t.api.get(`/api/patients/${conversation.patientId}`, billing.token)).status).to.equal(404);
  });

  it('filters the inbox by assignee (me, unassigned), status, channel and team', async () => {
    expect(await listIds(frontDesk, '?assignee=me')).to.deep.equal([ids.b]);
    expect(await listIds(frontDesk, '?assignee=unassigned')).to.deep.equal([ids.a]);
    expect(await listIds(admin, '?channel=email')).to.deep.equal([ids.b]);
    expect(await listIds(admin, '?team=billing')).to.deep.equal([ids.c]);
    await t.api.post(`/api/conversations/${ids.a}/resolve`, undefined, frontDesk.token);
    expect(await listIds(frontDesk, '?status=resolved')).to.deep.equal([ids.a]);
    expect(await listIds(frontDesk, '?status=open,pending')).to.deep.equal([ids.b]);
  });

  it('orders by newest activity and pages with a cursor, without gaps or repeats', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await patientWrites(t, { channel: 'sms', from: `+1415555030${i}`, body: `p${i}` })).conversation.id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api.get(`/api/conversations?team=front-desk&limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin.token);
      expect(res.status).to.equal(200);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 7)).to.deep.equal([...created].reverse());
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen).to.include.members([ids.a, ids.b]);
  });
});
