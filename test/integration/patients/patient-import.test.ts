/**
 * CSV import (POST /api/patients/import and `npm run patients:import`): bad
 * rows reported by line and column and skipped, rows that match a patient
 * (phone, email, MRN, name and date of birth) counted as existing, and a
 * second run of the same file changing nothing.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabaseUri } from '../../support/embedded-db.ts';
import { runScript } from '../../support/run-script.ts';
import { startTestHub, TEST_ENV, type Session, type TestHub } from '../../support/test-hub.ts';

const FILE = [
  'Name,Date_of_Birth,MRN,Phone,Email,Preferred_Channel,Language,Timezone,Team',
  'Imogen Import,1982-03-04,imp-1,(415) 555-0301,Imogen@Example.org,sms,en,America/New_York,', // 2 created
  '"Ortiz, Ramón",04/05/1975,IMP-2,,ramon@example.org,email,es,,billing', // 3 created
  'Bad Date,1982-02-31,IMP-3,,,,,,', // 4 date_of_birth
  'Bad Phone,,IMP-4,12345,,,,,', // 5 phone
  ',1990-01-01,IMP-5,,,,,,', // 6 name
  'Wrong Team,,IMP-6,,,,,,nowhere', // 7 team
  'Short Row,1990-01-01', // 8 row
  'Dup In File,,IMP-7,415-555-0301,,,,,', // 9 existing (line 2's phone)
  'Existing By Mrn,,reg-9,,,,,,', // 10 existing (a registered patient's MRN)
  'NAMESAKE nadia,06/06/1966,,,,,,,', // 11 existing (a registered patient's name and date of birth)
  'Conflicted,,REG-9,+1 415 555 0301,,,,,', // 12 mrn: line 2's phone, another patient's MRN
  'Bad Channel,,IMP-8,,,fax,,,', // 13 preferred_channel
].join('\r\n');

describe('patient import', () => {
  let t: TestHub;
  let admin: Session;
  let agent: Session;
  let billing: Session;
  let dir: string;

  before(async () => {
    t = await startTestHub({ label: 'patient-import' });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    agent = await t.agent({ name: 'Ada Agent', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Bea Billing', teamIds: ['billing'] });
    for (const body of [{ name: 'Regina Registered', mrn: 'REG-9' }, { name: 'Nadia Namesake', dateOfBirth: '1966-06-06' }]) {
      expect((await t.api.post('/api/patients', body, agent.token)).status).to.equal(201);
    }
    dir = await mkdtemp(join(tmpdir(), 'carethread-import-'));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = (csv: string, as: Session = admin, type = 'text/csv') =>
    fetch(`${t.url}/api/patients/import`, { method: 'POST', headers: { authorization: `Bearer ${as.token}`, 'content-type': type }, body: csv }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as any,
    }));
  const patients = () => t.hub.services.db.models.Patient.countDocuments();

  const EXPECTED_SKIPS = [
    { line: 4, field: 'date_of_birth' },
    { line: 5, field: 'phone' },
    { line: 6, field: 'name' },
    { line: 7, field: 'team' },
    { line: 8, field: 'row' },
    { line: 12, field: 'mrn' },
    { line: 13, field: 'preferred_channel' },
  ];

  it('creates the good rows, counts matches as existing, reports bad rows by line and column; a second run changes nothing', async () => {
    const before = await patients();
    const first = await upload(FILE);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body).to.include({ rows: 12, created: 2, existing: 3 });
    expect(first.body.skipped.map((s: { line: number; field: string }) => ({ line: s.line, field: s.field }))).to.deep.equal(EXPECTED_SKIPS);
    expect(first.body.skipped.find((s: { line: number }) => s.line === 4).message).to.equal('not a real date');
    expect(first.body.skipped.find((s: { line: number }) => s.line === 8).message).to.equal('expected 9 values, found 2');
    // Messages name the problem, never the value.
    expect(JSON.stringify(first.body.skipped)).not.to.match(/12345|1982-02-31|nowhere|fax|Conflicted/);
    expect(await patients()).to.equal(before + 2);

    const second = await upload(FILE);
    expect(second.status).to.equal(200);
    expect(second.body).to.include({ rows: 12, created: 0, existing: 5 });
    expect(second.body.skipped).to.deep.equal(first.body.skipped);
    expect(await patients()).to.equal(before + 2);
  });

  it('imports patients as their team’s, with asserted contacts, found by search', async () => {
    const ramon = (await t.api.get('/api/patients?q=ramon%20ortiz', billing.token)).body.items;
    expect(ramon).to.have.length(1);
    expect(ramon[0]).to.include({ name: 'Ortiz, Ramón', dateOfBirth: '1975-04-05', mrn: 'IMP-2', maskedEmail: 'r•••@example.org' });
    expect(ramon[0].teamIds).to.deep.equal(['billing']);
    expect((await t.api.get('/api/patients?q=ramon', agent.token)).body.items).to.deep.equal([]);
    const imogen = (await t.api.get('/api/patients?q=imogen%40example.org', agent.token)).body.items;
    expect(imogen).to.have.length(1);
    const profile = (await t.api.get(`/api/patients/${imogen[0].id}`, agent.token)).body;
    expect(profile).to.include({ mrn: 'IMP-1', dateOfBirth: '1982-03-04' });
    expect(profile.preferences).to.deep.equal({ channel: 'sms', language: 'en', timezone: 'America/New_York' });
    expect(profile.identities.map((i: { trust: string }) => i.trust)).to.deep.equal(['asserted', 'asserted']);
    expect(profile.consent.sms.status).to.equal('unknown');
    const audit = await t.hub.services.db.models.AuditEvent.find({ action: 'patient.import' }).sort({ _id: 1 }).lean();
    expect(audit.map((a) => a.details)).to.deep.equal([
      { rows: 12, created: 2, existing: 3, skipped: 7 },
      { rows: 12, created: 0, existing: 5, skipped: 7 },
    ]);
  });

  it('is for admins, takes text/csv up to 5 MB, and refuses a file that is not CSV or has unknown columns', async () => {
    expect((await upload(FILE, agent)).status).to.equal(403);
    expect((await upload(FILE, admin, 'application/vnd.ms-excel')).status).to.equal(415);
    const big = await upload(`name\n${'x'.repeat(5 * 1024 * 1024)}\n`);
    expect(big.status).to.equal(413);
    const unclosed = await upload('name,phone\n"Quinn,4155550399\n');
    expect(unclosed.status).to.equal(400);
    expect(unclosed.body.error).to.include({ field: 'file' });
    const headerless = await upload('Quinn Private,4155550399\n');
    expect(headerless.status).to.equal(400);
    expect(headerless.body.error).to.include({ field: 'header' });
    expect(JSON.stringify(headerless.body)).not.to.match(/Quinn|4155550399/);
  });

  it('runs as `npm run patients:import -- file.csv --team billing` on the hub’s database, twice without changes', async () => {
    const file = join(dir, 'patients.csv');
    await writeFile(file, 'name,phone,email,date_of_birth\nScott Script,+1 415 555 0311,scott@example.org,1991-09-09\nSally Script,,sally@example.org,\nBroken Row,not a phone,,\n');
    const env = { ...TEST_ENV, MONGODB_URI: testDatabaseUri(), MONGODB_DATABASE: t.databaseName };
    const first = await runScript('scripts/import-patients.ts', env, [file, '--team', 'billing']);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/3 rows in [\d.]+ s: 2 created, 0 existing, 1 skipped/);
    expect(first.stdout).to.include('line 4, phone:');
    const second = await runScript('scripts/import-patients.ts', env, [file, '--team', 'billing']);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.match(/3 rows in [\d.]+ s: 0 created, 2 existing, 1 skipped/);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.to.match(/Scott|Sally|scott@|sally@|0311|1991/i);
    expect(((await t.api.get('/api/patients?q=script', billing.token)).body.items as { name: string }[]).map((p) => p.name).sort()).to.deep.equal(['Sally Script', 'Scott Script']);
    const cli = await t.hub.services.db.models.AuditEvent.find({ action: 'patient.import', via: 'cli' }).lean();
    expect(cli).to.have.length(2);
  });
});
