/**
 * Registering and editing patients (POST/PATCH /api/patients): sealed fields,
 * staff-entered contacts asserted (never verified), duplicates refused with
 * the matches (phone, email, MRN, name and date of birth), a supervisor's
 * override of a name-and-birthday match only, and team access.
 */
import { expect } from 'chai';
import { patientWrites, startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

describe('patient registration', () => {
  let t: TestHub;
  let admin: Session;
  let agent: Session;
  let supervisor: Session;
  let billing: Session;

  before(async () => {
    t = await startTestHub({ label: 'patient-registration' });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    agent = await t.agent({ name: 'Ada Agent', teamIds: ['front-desk'] });
    supervisor = await t.agent({ name: 'Sam Super', role: 'supervisor', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Bea Billing', teamIds: ['billing'] });
  });
  after(() => t.close());

  const register = (body: Record<string, unknown>, as: Session = agent) => t.api.post('/api/patients', body, as.token);

  it('registers a patient of the agent’s team: fields normalized, contacts asserted, visible to the team only', async () => {
    const res = await register({
      name: '  Maya   Okafor ', dateOfBirth: '07/31/1984', mrn: 'mrn-5501', phone: '415.555.0131', email: 'Maya.Okafor@Example.org',
      preferredChannel: 'sms', language: 'es', timezone: 'America/Los_Angeles',
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ name: 'Maya Okafor', dateOfBirth: '1984-07-31', mrn: 'MRN-5501' });
    expect(res.body.teamIds).to.deep.equal(['front-desk']);
    expect(res.body.preferences).to.deep.equal({ channel: 'sms', language: 'es', timezone: 'America/Los_Angeles' });
    expect(res.body.consent.sms.status).to.equal('unknown');
    const identities = res.body.identities as { kind: string; value: string; trust: string; verified: boolean; evidence: string }[];
    expect(identities.map((i) => [i.kind, i.value, i.trust, i.verified, i.evidence]).sort()).to.deep.equal([
      ['email', 'maya.okafor@example.org', 'asserted', false, 'agent_entered'],
      ['phone', '+14155550131', 'asserted', false, 'agent_entered'],
    ]);
    expect((await t.api.get(`/api/patients/${res.body.id}`, agent.token)).status).to.equal(200);
    expect((await t.api.get(`/api/patients/${res.body.id}`, billing.token)).status).to.equal(404);
    // Sealed at rest, with blind keys beside.
    const stored = await t.hub.services.db.models.Patient.findById(res.body.id).lean().orFail();
    expect(stored.nameEnc).to.match(/^v1\./);
    expect(stored.dateOfBirthEnc).to.match(/^v1\./);
    expect(stored.mrnEnc).to.match(/^v1\./);
    expect(stored.searchKeys!.length).to.be.greaterThan(5);
    expect(stored.createdBy).to.equal(agent.agent.id);
  });

  it('registers in a team the agent belongs to, not in another', async () => {
    const mine = await register({ name: 'Teo Team', teamId: 'billing' }, billing);
    expect(mine.status).to.equal(201);
    expect(mine.body.teamIds).to.deep.equal(['billing']);
    const other = await register({ name: 'Teo Other', teamId: 'billing' }, agent);
    expect(other.status).to.equal(400);
    expect(other.body.error).to.include({ code: 'INVALID_INPUT', field: 'teamId' });
  });

  it('answers 400 naming the field for a bad date of birth, phone, email, MRN or a missing name', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'A B', dateOfBirth: '1984-02-30' }, 'dateOfBirth', 'INVALID_INPUT'],
      [{ name: 'A B', dateOfBirth: '31.07.1984' }, 'dateOfBirth', 'INVALID_INPUT'],
      [{ name: 'A B', dateOfBirth: '2999-01-01' }, 'dateOfBirth', 'INVALID_INPUT'],
      [{ name: 'A B', phone: '12' }, 'phone', 'INVALID_INPUT'],
      [{ name: 'A B', phone: 'call me maybe' }, 'phone', 'INVALID_PHONE_NUMBER'],
      [{ name: 'A B', email: 'not-an-email' }, 'email', 'INVALID_INPUT'],
      [{ name: 'A B', mrn: 'has spaces in it' }, 'mrn', 'INVALID_INPUT'],
      [{ dateOfBirth: '1984-07-31' }, 'name', 'INVALID_INPUT'],
      [{ name: '   ' }, 'name', 'INVALID_INPUT'],
    ];
    for (const [body, field, code] of cases) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error, JSON.stringify(body)).to.include({ code, field });
    }
  });

  describe('duplicates', () => {
    let existing: string;
    before(async () => {
      const res = await register({ name: 'Dora Duplicate', dateOfBirth: '1970-01-20', mrn: 'D-1', phone: '+1 415 555 0141', email: 'dora@example.org' });
      expect(res.status).to.equal(201);
      existing = res.body.id;
    });

    const refused = async (body: Record<string, unknown>, reason: string, as: Session = agent) => {
      const res = await register(body, as);
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.error.code).to.equal('DUPLICATE_PATIENT');
      expect(res.body.duplicates).to.deep.include({ id: existing, name: 'Dora Duplicate', reason });
      return res;
    };

    it('refuses the same phone (in another format), the same email, the same MRN, with the existing patient', async () => {
      await refused({ name: 'Someone Else', phone: '(415) 555-0141' }, 'phone');
      await refused({ name: 'Someone Else', email: 'DORA@example.org' }, 'email');
      await refused({ name: 'Someone Else', mrn: ' d-1 ' }, 'mrn');
    });

    it('refuses the same name (any case, accents, word order) and date of birth', async () => {
      await refused({ name: 'duplicate, dóra', dateOfBirth: '01/20/1970' }, 'name_and_date_of_birth');
      // The same name born another day is someone else.
      expect((await register({ name: 'Dora Duplicate', dateOfBirth: '1971-01-20' })).status).to.equal(201);
    });

    it('lets a supervisor register a same-name-and-birthday patient anyway; an agent gets 403 for asking', async () => {
      const asAgent = await register({ name: 'Dora Duplicate', dateOfBirth: '1970-01-20', allowDuplicate: true }, agent);
      expect(asAgent.status).to.equal(403);
      expect(asAgent.body.error.code).to.equal('FORBIDDEN');
      const twin = await register({ name: 'Dora Duplicate', dateOfBirth: '1970-01-20', allowDuplicate: true }, supervisor);
      expect(twin.status, JSON.stringify(twin.body)).to.equal(201);
      expect(twin.body.id).not.to.equal(existing);
      const audit = await t.hub.services.db.models.AuditEvent.findOne({ action: 'patient.create', patientId: twin.body.id }).lean().orFail();
      expect(audit.details).to.include({ duplicatesOverridden: 1 });
    });

    it('never gives a phone, email or MRN of another patient to a second one, even with the override', async () => {
      for (const [field, value] of [['phone', '4155550141'], ['email', 'dora@example.org'], ['mrn', 'D-1']] as const) {
        const res = await register({ name: 'Dora Twin', [field]: value, allowDuplicate: true }, supervisor);
        expect(res.status, field).to.equal(409);
        expect(res.body.error, field).to.include({ code: 'CONFLICT', field });
      }
    });

    it('names no patient of another team: the match is shown without id or name', async () => {
      const res = await register({ name: 'Bob Billing', phone: '415-555-0141' }, billing);
      expect(res.status).to.equal(409);
      expect(res.body.duplicates).to.deep.equal([{ id: null, name: null, reason: 'phone' }]);
      expect(JSON.stringify(res.body)).not.to.include('Dora');
    });
  });

  describe('editing', () => {
    it('changes name, date of birth and MRN (search follows), and clears them with null', async () => {
      const created = await register({ name: 'Edith Before', dateOfBirth: '1960-05-05', mrn: 'E-77' });
      const id = created.body.id as string;
      const res = await t.api.patch(`/api/patients/${id}`, { name: 'Edwina After', mrn: null, language: 'fr' }, agent.token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ name: 'Edwina After', dateOfBirth: '1960-05-05', mrn: null });
      expect(res.body.preferences.language).to.equal('fr');
      const found = async (q: string) => ((await t.api.get(`/api/patients?q=${encodeURIComponent(q)}`, agent.token)).body.items as { id: string }[]).map((p) => p.id);
      expect(await found('edwina')).to.deep.equal([id]);
      expect(await found('edith')).to.deep.equal([]);
      expect(await found('E-77')).to.deep.equal([]);
      expect(await found('1960-05-05')).to.deep.equal([id]);
    });

    it('adds a new phone as asserted and leaves the patient’s verified number verified', async () => {
      const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550151', body: 'Hi, it is Vera' });
      const res = await t.api.patch(`/api/patients/${inbound.patientId}`, { name: 'Vera Verified', phone: '(415) 555-0152' }, agent.token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const phones = (res.body.identities as { value: string; trust: string }[]).map((i) => [i.value, i.trust]).sort();
      expect(phones).to.deep.equal([['+14155550151', 'verified'], ['+14155550152', 'asserted']]);
      // Giving the number it already has changes nothing about it.
      const again = await t.api.patch(`/api/patients/${inbound.patientId}`, { phone: '4155550151' }, agent.token);
      expect((again.body.identities as { value: string; trust: string }[]).find((i) => i.value === '+14155550151')?.trust).to.equal('verified');
      // The inbox shows the new name.
      const conversation = (await t.api.get(`/api/conversations/${inbound.conversation.id}`, agent.token)).body;
      expect(conversation.patientName).to.equal('Vera Verified');
    });

    it('refuses a phone or MRN that is another patient’s (409 naming the field), and another team’s patient (404)', async () => {
      const first = await register({ name: 'Owner One', phone: '+14155550161', mrn: 'OWN-1' });
      const second = await register({ name: 'Owner Two' });
      const phone = await t.api.patch(`/api/patients/${second.body.id}`, { phone: '415 555 0161' }, agent.token);
      expect(phone.status).to.equal(409);
      expect(phone.body.error).to.include({ code: 'CONFLICT', field: 'phone' });
      const mrn = await t.api.patch(`/api/patients/${second.body.id}`, { mrn: 'own-1' }, agent.token);
      expect(mrn.status).to.equal(409);
      expect(mrn.body.error).to.include({ code: 'CONFLICT', field: 'mrn' });
      expect((await t.api.patch(`/api/patients/${first.body.id}`, { name: 'Taken Over' }, billing.token)).status).to.equal(404);
      const unchanged = await t.api.get(`/api/patients/${first.body.id}`, agent.token);
      expect(unchanged.body.name).to.equal('Owner One');
    });
  });
});
