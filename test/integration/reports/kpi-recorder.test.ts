/**
 * The live figures under what production throws at them: events replayed by
 * another node, another node writing a conversation's facts between this
 * node's read and write, and a store that fails (the webhook still succeeds;
 * a rebuild recovers the figure).
 */
import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { patientWrites, startTestHub, TestClock, type TestHub } from '../../support/test-hub.ts';
import { KpiRecorder } from '../../../server/reports/kpi-recorder.ts';
import { rebuildKpis } from '../../../server/reports/kpi-rebuild.ts';

class FrozenClock extends TestClock {
  private at = Date.parse('2026-04-07T10:00:00Z');
  override readonly now = () => new Date(this.at);
  override advance(ms: number): void {
    this.at += ms;
  }
  override setTo(at: Date): void {
    this.at = at.getTime();
  }
}

describe('contact-center figures across retries, nodes and failures', function () {
  this.timeout(60_000);
  const clock = new FrozenClock();
  let t: TestHub;
  const QUERY = 'from=2026-04-07&to=2026-04-08';
  before(async () => {
    t = await startTestHub({ label: 'kpi-recorder', clock });
  });
  after(() => t?.close());

  async function report() {
    await t.hub.settled();
    const res = await t.api.get(`/api/reports/kpis?${QUERY}`, (await t.admin()).token);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  }
  const rebuild = () => rebuildKpis(t.hub.services.db.models, { defaultHours: null, timeZone: 'UTC', now: clock.now() });

  it('counts events replayed by another node once, and adds to what another node wrote in between', async () => {
    const admin = (await t.admin()).token;
    const conversationId = (await patientWrites(t, { channel: 'sms', from: '+14155550201', body: 'Is the lab open?' })).conversation.id;
    clock.advance(120_000);
    expect((await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Until 5pm' }, admin)).status).to.equal(201);
    const before = await report();
    expect(before.totals.conversations).to.equal(1);

    // Another node, with caches of its own, is told the same events again.
    const work: Promise<unknown>[] = [];
    const other = new KpiRecorder(() => t.hub.services.timeline, { defaultHours: null, timeZone: 'UTC', startWork: (_what, run) => void work.push(run()) });
    const conversation = (await t.api.get(`/api/conversations/${conversationId}`, admin)).body;
    for (const message of (await t.api.get(`/api/conversations/${conversationId}/messages`, admin)).body.items) other.messageCreated(message, conversation);
    other.conversationUpdated(conversation);
    await Promise.all(work);
    expect(await report()).to.deep.equal(before);

    // The other node records a moment: this node's cached facts are stale now. Its next write misses the
    // revision it read, reads again and adds to the other node's, losing neither.
    await other.csatAnswered({ conversationId, channel: 'sms', score: 4, hasComment: false, at: clock.now() });
    clock.advance(60_000);
    await patientWrites(t, { channel: 'sms', from: '+14155550201', body: 'And on Saturday?' });
    clock.advance(60_000);
    expect((await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Closed on Saturday' }, admin)).status).to.equal(201);
    const live = await report();
    expect(live.totals.csat).to.deep.equal({ responses: 1, average: 4, satisfiedRate: 1 });
    // Responses of 120 s and 60 s: DDSketch's median and p90 of two values are the lower one (rank q·(n−1)).
    expect(live.totals.responseSeconds.median).to.be.closeTo(60, 0.6);
    const facts = await t.hub.services.db.models.KpiConversation.findById(conversationId).lean().orFail();
    expect(facts.moments.map((m) => m.kind).sort()).to.deep.equal(['csat', 'patient', 'patient', 'reply', 'reply']);
    expect(facts.applied.filter((key) => key.startsWith('response|')).map((key) => key.split('|').at(-1))).to.deep.equal(['120', '60']);

    // What the buckets hold is what the timeline gives.
    await rebuild();
    expect(await report()).to.deep.equal(live);
  });

  it('never fails a webhook when the figures cannot be written, logs no PHI, and a rebuild recovers them', async () => {
    const model = t.hub.services.db.models.KpiConversation;
    const findById = model.findById;
    model.findById = (() => {
      throw new Error('the store is away');
    }) as never;
    const logsBefore = t.logs.length;
    try {
      const res = await postTwilio(t, '/webhooks/twilio/sms', inboundSms({ From: '+14155550299', Body: 'Jane Roe here, my results please' }));
      expect(res.status).to.equal(200);
      await t.hub.settled();
    } finally {
      model.findById = findById;
    }
    const said = t.logs.slice(logsBefore).filter((line) => line.includes('contact-center figures not updated'));
    expect(said).to.have.length.greaterThan(0);
    for (const line of said) {
      expect(line).not.to.match(/Jane|Roe|results|4155550299/);
      expect(JSON.parse(line)).to.include({ level: 40 });
    }
    expect((await report()).totals.conversations).to.equal(1);
    const rebuilt = await rebuild();
    expect(rebuilt.conversations).to.equal(2);
    expect((await report()).totals.conversations).to.equal(2);
  });
});
