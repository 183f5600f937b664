/**
 * Patient search (GET /api/patients?q=): by exact phone in any format, exact
 * email, name words and prefixes (accents and case ignored), date of birth
 * and MRN, through blind keys; only patients the agent may see; every search
 * audited without the query.
 */
import { expect } from 'chai';
import { patientWrites, startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

describe('patient search', () => {
  let t: TestHub;
  let admin: Session;
  let frontDesk: Session;
  let billing: Session;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestHub({ label: 'patient-search' });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    frontDesk = await t.agent({ name: 'Fran Desk', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Bill Ing', teamIds: ['billing'] });
    const register = async (as: Session, body: Record<string, unknown>) => {
      const res = await t.api.post('/api/patients', body, as.token);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.id as string;
    };
    ids.zoe = await register(frontDesk, {
      name: 'Zoë Ångström-Dubois', dateOfBirth: '1990-02-14', mrn: ' a-100234 ', phone: '(415) 555-0111', email: 'Zoe.Angstrom@Example.org',
    });
    ids.zoran = await register(frontDesk, { name: 'Zoran Dubovic', dateOfBirth: '1985-03-03' });
    ids.li = await register(frontDesk, { name: 'Li Na' });
    ids.zora = await register(billing, { name: 'Zora Billingsley', phone: '+1 415 555 0122' });
    // A patient who wrote first: visible through the conversation's team, never registered.
    const inbound = await patientWrites(t, { channel: 'email', from: 'quentin.inbound@example.org', displayName: 'Quentin Inbound', body: 'Hello, about my appointment' });
    ids.quentin = inbound.patientId;
  });
  after(() => t.close());

  const search = async (q: string, as: Session = frontDesk, extra = '') => {
    const res = await t.api.get(`/api/patients?q=${encodeURIComponent(q)}${extra}`, as.token);
    expect(res.status, `${q}: ${JSON.stringify(res.body)}`).to.equal(200);
    return res.body as { items: any[]; nextCursor: string | null; matchedBy: string };
  };
  const found = async (q: string, as: Session = frontDesk) => (await search(q, as)).items.map((p) => p.id as string).sort();

  it('finds a patient by exact phone in any common format', async () => {
    for (const q of ['(415) 555-0111', '+1 415-555-0111', '415.555.0111', '4155550111', '+14155550111']) {
      expect(await found(q), q).to.deep.equal([ids.zoe]);
    }
    expect(await found('(415) 555-0119')).to.deep.equal([]);
  });

  it('finds a patient by exact email, whatever its case, and shows contacts masked', async () => {
    const page = await search('ZOE.ANGSTROM@example.ORG');
    expect(page.matchedBy).to.equal('email');
    expect(page.items).to.have.length(1);
    expect(page.items[0]).to.include({ id: ids.zoe, name: 'Zoë Ångström-Dubois', maskedPhone: '•••• 0111', maskedEmail: 'z•••@example.org', dateOfBirth: '1990-02-14', mrn: 'A-100234' });
    expect(page.items[0].teamIds).to.deep.equal(['front-desk']);
    expect(page.items[0].openConversations).to.deep.equal([]);
    expect(await found('zoe.angstrom@example.com')).to.deep.equal([]);
  });

  it('finds names by whole words and prefixes of 3+ letters, ignoring case and accents; every word must match', async () => {
    expect(await found('zoe')).to.deep.equal([ids.zoe]);
    expect(await found('ZOË')).to.deep.equal([ids.zoe]);
    expect(await found('angstrom')).to.deep.equal([ids.zoe]);
    expect(await found('Ångs')).to.deep.equal([ids.zoe]);
    expect(await found('dub')).to.deep.equal([ids.zoe, ids.zoran].sort());
    expect(await found('Dubois Zoe')).to.deep.equal([ids.zoe]);
    expect(await found('dubo zor')).to.deep.equal([ids.zoran]);
    expect(await found('dubois zoran')).to.deep.equal([]);
    // A 2-letter prefix matches nothing; a 2-letter whole word does.
    expect(await found('Zo')).to.deep.equal([]);
    expect(await found('du')).to.deep.equal([]);
    expect(await found('li')).to.deep.equal([ids.li]);
  });

  it('finds a patient by date of birth (YYYY-MM-DD or MM/DD/YYYY) and by MRN (trimmed, any case)', async () => {
    expect(await found('1990-02-14')).to.deep.equal([ids.zoe]);
    expect(await found('02/14/1990')).to.deep.equal([ids.zoe]);
    expect(await found('2/14/1990')).to.deep.equal([ids.zoe]);
    expect(await found('1990-02-15')).to.deep.equal([]);
    expect(await found('a-100234')).to.deep.equal([ids.zoe]);
    expect((await search('A-100234')).matchedBy).to.equal('mrn');
  });

  it('shows an agent only patients of their team: registered by it, or with a conversation they may see', async () => {
    expect(await found('billingsley', frontDesk)).to.deep.equal([]);
    expect(await found('zora', frontDesk)).to.deep.equal([ids.zoran]);
    expect(await found('(415) 555-0122', frontDesk)).to.deep.equal([]);
    expect(await found('zora billing', billing)).to.deep.equal([ids.zora]);
    expect(await found('zoe', billing)).to.deep.equal([]);
    expect(await found('4155550111', billing)).to.deep.equal([]);
    // Quentin wrote in: front desk (the conversation's team) sees him with his open conversation; billing does not.
    const quentin = (await search('quentin', frontDesk)).items;
    expect(quentin.map((p) => p.id)).to.deep.equal([ids.quentin]);
    expect(quentin[0].maskedEmail).to.equal('q•••@example.org');
    expect(quentin[0].openConversations).to.have.length(1);
    expect(quentin[0].openConversations[0]).to.include({ status: 'open', teamId: 'front-desk' });
    expect(quentin[0].lastContactAt).to.be.a('string');
    expect(await found('quentin', billing)).to.deep.equal([]);
    // Admins see everyone; another team's patient is a 404 on the profile.
    expect((await search('zo', admin)).items.map((p) => p.name)).to.deep.equal([]);
    expect(await found('zor', admin)).to.deep.equal([ids.zoran, ids.zora].sort());
    expect((await t.api.get(`/api/patients/${ids.zora}`, frontDesk.token)).status).to.equal(404);
    expect((await t.api.get(`/api/patients/${ids.zoe}`, frontDesk.token)).status).to.equal(200);
  });

  it('pages with a cursor, 20 by default and at most 50', async () => {
    for (const n of ['Uno', 'Dos', 'Tres']) {
      expect((await t.api.post('/api/patients', { name: `Pagina ${n}` }, frontDesk.token)).status).to.equal(201);
    }
    const first = await search('pagina', frontDesk, '&limit=2');
    expect(first.items).to.have.length(2);
    expect(first.nextCursor).to.be.a('string');
    const second = await search('pagina', frontDesk, `&limit=2&cursor=${first.nextCursor}`);
    expect(second.items).to.have.length(1);
    expect(second.nextCursor).to.equal(null);
    const all = [...first.items, ...second.items].map((p) => p.name);
    expect(all.sort()).to.deep.equal(['Pagina Dos', 'Pagina Tres', 'Pagina Uno']);
    expect((await search('pagina')).items).to.have.length(3);
    const bad = await t.api.get('/api/patients?q=pagina&cursor=nope', frontDesk.token);
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.include({ code: 'INVALID_CURSOR', field: 'cursor' });
    expect((await t.api.get('/api/patients?q=pagina&limit=51', frontDesk.token)).body.error).to.include({ code: 'INVALID_INPUT', field: 'limit' });
  });

  it('answers 400 naming q for a query shorter than 2 or longer than 100 characters, or missing', async () => {
    for (const path of ['/api/patients?q=a', '/api/patients?q=%20z%20', `/api/patients?q=${'x'.repeat(101)}`, '/api/patients', '/api/patients?q=1990-02-30', '/api/patients?q=zoe%40']) {
      const res = await t.api.get(path, frontDesk.token);
      expect(res.status, path).to.equal(400);
      expect(res.body.error, path).to.include({ code: 'INVALID_INPUT', field: 'q' });
    }
    expect((await t.api.get('/api/patients?q=zoe')).status).to.equal(401);
  });

  it('audits every search with the kind of query and the count, never the query itself', async () => {
    const before = await t.hub.services.db.models.AuditEvent.countDocuments({ action: 'patient.search' });
    await search('Ångström Zoë');
    await search('(415) 555-0111');
    await search('02/14/1990');
    const entries = await t.hub.services.db.models.AuditEvent.find({ action: 'patient.search' }).sort({ _id: 1 }).lean();
    expect(entries.length).to.equal(before + 3);
    const mine = entries.slice(-3);
    expect(mine.map((e) => e.details)).to.deep.equal([
      { query: 'name', results: 1, page: 'first' },
      { query: 'phone', results: 1, page: 'first' },
      { query: 'date_of_birth', results: 1, page: 'first' },
    ]);
    expect(mine.every((e) => e.actorId === frontDesk.agent.id && e.outcome === 'success')).to.equal(true);
    // What an entry says (its hashes and times are hex and digits: a short number could turn up there by chance).
    const text = JSON.stringify(entries.map((e) => [e.action, e.details, e.reason, e.patientId, e.conversationId])).toLowerCase();
    for (const clear of ['zoe', 'zoë', 'angstr', 'ångstr', 'dubois', '0111', '1990', 'a-100234', 'quentin', 'pagina']) expect(text, clear).not.to.include(clear);
  });
});
