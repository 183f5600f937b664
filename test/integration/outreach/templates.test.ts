/** Templates through the API: saved and checked, previewed with the SMS segment count, the PHI-free variant when PHI-safe. */
import { expect } from 'chai';
import type { TestHub } from '../../support/test-hub.ts';
import { newPatient, schedule, setPreferences, settled, smsTo, startOutreachHub, WEDNESDAY } from './outreach-support.ts';

const CLINIC_TEMPLATE = {
  kind: 'results_ready',
  description: 'Lab results with the clinician',
  bodies: { en: 'Hi {{firstName}}, {{provider}} reviewed your lab results: {{detail}}', it: 'Buongiorno {{firstName}}, {{provider}} ha visto i risultati: {{detail}}' },
  phiFreeBodies: { en: 'Hi {{firstName}}, {{clinicName}} has a message for you: {{link}}' },
  subjects: { en: 'A message from your clinic' },
};

describe('message templates: variables checked, previews with segments, a PHI-free variant', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startOutreachHub('templates');
  });
  after(async () => t?.close());

  it('saves a clinic template, names the wrong variable, keeps agents from editing, and brings a built-in back on delete', async () => {
    const admin = await t.admin();
    const saved = await t.api.put('/api/templates/lab_results', CLINIC_TEMPLATE, admin.token);
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
    expect(saved.body.variables).to.have.members(['firstName', 'provider', 'detail', 'clinicName', 'link']);

    const typo = await t.api.put('/api/templates/lab_results', { ...CLINIC_TEMPLATE, bodies: { en: 'Hi {{first_name}}' } }, admin.token);
    expect(typo.status).to.equal(400);
    expect(typo.body.error).to.include({ field: 'bodies.en' });
    expect(typo.body.error.message).to.include('{{first_name}}');
    const phiInFree = await t.api.put('/api/templates/lab_results', { ...CLINIC_TEMPLATE, phiFreeBodies: { en: '{{detail}} {{link}}' } }, admin.token);
    expect(phiInFree.status).to.equal(400);
    expect(phiInFree.body.error.message).to.equal('phiFreeBodies.en: {{detail}} is clinical detail and cannot be in the PHI-free variant');
    expect((await t.api.put('/api/templates/Bad Name', CLINIC_TEMPLATE, admin.token)).status).to.equal(400);
    // The failed saves changed nothing.
    const listed = await t.api.get('/api/templates', admin.token);
    const mine = listed.body.items.find((i: { name: string }) => i.name === 'lab_results');
    expect(mine.bodies.en).to.equal(CLINIC_TEMPLATE.bodies.en);
    expect(listed.body.items.map((i: { name: string }) => i.name)).to.include.members(['appointment_reminder', 'follow_up', 'results_ready']);

    const agent = await t.agent({ name: 'Front desk' });
    expect((await t.api.get('/api/templates', agent.token)).status).to.equal(200);
    expect((await t.api.put('/api/templates/lab_results', CLINIC_TEMPLATE, agent.token)).status).to.equal(403);
    expect((await t.api.delete('/api/templates/lab_results', agent.token)).status).to.equal(403);

    const custom = await t.api.put('/api/templates/follow_up', { ...CLINIC_TEMPLATE, kind: 'follow_up' }, admin.token);
    expect(custom.body.builtIn).to.equal(false);
    expect((await t.api.delete('/api/templates/follow_up', admin.token)).status).to.equal(204);
    const back = (await t.api.get('/api/templates', admin.token)).body.items.find((i: { name: string }) => i.name === 'follow_up');
    expect(back.builtIn).to.equal(true);
    expect((await t.api.delete('/api/templates/follow_up', admin.token)).status).to.equal(404);
  });

  it('previews what one patient would get, in their language, with the SMS segment count', async () => {
    t.clock.setTo(WEDNESDAY);
    const { patientId } = await newPatient(t, '+14155550501', 'Giulia Bianchi');
    await setPreferences(t, patientId, { language: 'it', timezone: 'Europe/Rome' });
    const admin = await t.admin();
    const preview = await t.api.post('/api/templates/preview', {
      patientId, template: 'appointment_reminder', variables: { appointmentAt: '2027-03-29T07:00:00Z', location: 'Ambulatorio 2' },
    }, admin.token);
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    // 09:00 in Rome on the first Monday of summer time (CEST, +2).
    expect(preview.body.body).to.equal(
      "Buongiorno Giulia, da Riverside Clinic: le ricordiamo l'appuntamento di lunedì 29 marzo alle 9:00 (Ambulatorio 2). Risponda C per confermare, X per annullare o R per spostarlo.",
    );
    expect(preview.body.sms).to.deep.include({ encoding: 'GSM-7', segments: 2 });
    expect(preview.body).to.include({ language: 'it', phiFree: false });

    const missing = await t.api.post('/api/templates/preview', { patientId, template: 'appointment_reminder', variables: { appointmentAt: '2027-03-29T07:00:00Z' } }, admin.token);
    expect(missing.status).to.equal(400);
    expect(missing.body.error).to.include({ field: 'variables.location' });
    expect((await t.api.post('/api/templates/preview', { patientId: 'nobody', template: 'results_ready' }, admin.token)).status).to.equal(404);
  });

  describe('with PHI_SAFE_NOTIFICATIONS on', () => {
    let safe: TestHub;
    before(async () => {
      safe = await startOutreachHub('templates-phi-safe', { PHI_SAFE_NOTIFICATIONS: 'true', OUTREACH_URGENT_KINDS: 'results_ready' });
    });
    after(async () => safe?.close());

    it('sends the PHI-free variant with a fresh secure link, and refuses a body or a template without one', async () => {
      const admin = await safe.admin();
      expect((await safe.api.put('/api/templates/lab_results', CLINIC_TEMPLATE, admin.token)).status).to.equal(200);
      expect((await safe.api.put('/api/templates/no_free', { ...CLINIC_TEMPLATE, phiFreeBodies: {} }, admin.token)).status).to.equal(200);
      const phone = '+14155550502';
      const { patientId } = await newPatient(safe, phone, 'Ana Ruiz');
      const variables = { provider: 'Dr. Rossi', detail: 'your thyroid panel is normal' };
      const now = safe.clock.now().toISOString();
      const noFree = await schedule(safe, patientId, { template: 'no_free', variables, sendAt: now });
      expect(noFree.status).to.equal(400);
      expect(noFree.body.error.message).to.include('has no PHI-free variant');
      const body = await schedule(safe, patientId, { body: 'Your thyroid panel is normal', kind: 'results_ready', sendAt: now });
      expect(body.status).to.equal(400);
      expect(body.body.error.field).to.equal('body');
      // The clinical variables are not used by the PHI-free text: giving them is refused as unused, not silently dropped.
      const unused = await schedule(safe, patientId, { template: 'lab_results', variables, sendAt: now });
      expect(unused.status).to.equal(400);
      expect(unused.body.error.field).to.equal('variables.provider');
      const ok = await schedule(safe, patientId, { template: 'lab_results', sendAt: now });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      expect(ok.body.phiFree).to.equal(true);
      expect((await settled(safe, ok.body.id)).status).to.equal('sent');
      await safe.hub.settled();
      const [text] = await smsTo(safe, phone);
      expect(text!.body).to.match(/^Hi Ana, Riverside Clinic has a message for you: http:\/\/\S+\/m\/\S+$/);
      expect(text!.body).not.to.include('thyroid');
    });
  });
});
