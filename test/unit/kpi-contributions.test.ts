/**
 * The definitions of the contact-center figures (server/reports/kpi-contributions.ts),
 * the moments they are made of (kpi-moments.ts), business time (openMillisBetween)
 * and the sketches' round trip through the buckets (kpi-buckets.ts).
 */
import { expect } from 'chai';
import { DDSketch } from '@datadog/sketches-js';
import { isOpenAt, openMillisBetween, teamHoursSchema } from '../../server/routing/business-hours.ts';
import { bucketWrites, MergedFigures, toBucketDocument } from '../../server/reports/kpi-buckets.ts';
import {
  contributionKey,
  contributionsOf,
  differenceOf,
  fcrDueAt,
  firstResponseSpan,
  mergeMoments,
  type Contribution,
} from '../../server/reports/kpi-contributions.ts';
import type { KpiMoment } from '../../server/reports/kpi-documents.ts';
import { momentOfMessage } from '../../server/reports/kpi-moments.ts';
import { dayStart, periodsBetween } from '../../server/reports/kpi-periods.ts';

const T0 = Date.parse('2026-03-10T08:00:00Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);
const patient = (id: string, m: number, channel: KpiMoment['channel'] = 'sms'): KpiMoment => ({ id, kind: 'patient', at: at(m), teamId: 'front', channel });
const reply = (id: string, m: number, agentId = 'a1', channel: KpiMoment['channel'] = 'sms'): KpiMoment => ({ id, kind: 'reply', at: at(m), teamId: 'front', agentId, channel });
const assigned = (m: number, agentId = 'a1', teamId = 'front'): KpiMoment => ({ id: `assigned:${m}:${agentId}`, kind: 'assigned', at: at(m), teamId, agentId });
const resolved = (m: number, agentId: string | null = 'a1'): KpiMoment => ({ id: `resolved:${m}`, kind: 'resolved', at: at(m), teamId: 'front', agentId });
const reopened = (m: number): KpiMoment => ({ id: `reopened:${m}`, kind: 'reopened', at: at(m), teamId: 'front' });
const values = (list: Contribution[], metric: Contribution['metric']) => list.filter((c) => c.metric === metric).map((c) => c.value ?? 1);

describe('contact-center figures: definitions', () => {
  it('times the first response from the first patient message, and each response from the oldest message it answers', () => {
    const moments = [patient('p1', 0), reply('r1', 5), patient('p2', 6), patient('p3', 7), reply('r2', 10), reply('r3', 11)];
    expect(firstResponseSpan(moments)).to.deep.include({ from: at(0), to: at(5), teamId: 'front' });
    const out = contributionsOf(moments, at(20), 300);
    expect(values(out, 'firstResponse')).to.deep.equal([300]);
    // r3 answers nothing new: no response time.
    expect(values(out, 'response')).to.deep.equal([300, 240]);
    expect(values(out, 'conversations')).to.deep.equal([1]);
  });

  it('counts no response before the patient wrote (the clinic wrote first), and places conversation figures where the patient first wrote', () => {
    const out = contributionsOf([reply('r0', 0), patient('p1', 30), reply('r1', 32)], at(60), 120);
    expect(values(out, 'response')).to.deep.equal([120]);
    expect(out.find((c) => c.metric === 'conversations')!.at).to.equal(at(30).getTime());
  });

  it('takes only patients’ own messages and agents’ replies as moments: never notes, events, automatic mail, the hub’s texts or a fallback copy', () => {
    const base = { channel: 'sms', createdAt: at(0), channelReason: null };
    expect(momentOfMessage({ ...base, id: 'a', direction: 'inbound', kind: 'text', author: { type: 'patient', agentId: null } }, 't')?.kind).to.equal('patient');
    expect(momentOfMessage({ ...base, id: 'b', direction: 'outbound', kind: 'text', author: { type: 'agent', agentId: 'x' } }, 't')?.kind).to.equal('reply');
    expect(momentOfMessage({ ...base, id: 'c', direction: 'note', channel: 'internal', kind: 'text', author: { type: 'agent', agentId: 'x' } }, 't')).to.equal(null);
    expect(momentOfMessage({ ...base, id: 'd', direction: 'system', channel: 'internal', kind: 'event', author: { type: 'agent', agentId: 'x' } }, 't')).to.equal(null);
    expect(momentOfMessage({ ...base, id: 'e', direction: 'system', channel: 'email', kind: 'automatic_reply', author: { type: 'system', agentId: null } }, 't')).to.equal(null);
    // A triage safety reply, an after-hours answer, a FAQ answer: outbound, written by the hub.
    expect(momentOfMessage({ ...base, id: 'f', direction: 'outbound', kind: 'text', author: { type: 'system', agentId: null } }, 't')).to.equal(null);
    expect(momentOfMessage({ ...base, id: 'g', direction: 'outbound', kind: 'text', channelReason: 'fallback', author: { type: 'agent', agentId: 'x' } }, 't')).to.equal(null);
    expect(momentOfMessage({ ...base, id: 'h', direction: 'outbound', kind: 'text', fallback: { of: 'b' }, author: { type: 'agent', agentId: 'x' } }, 't')).to.equal(null);
  });

  it('measures the queue to the first assignment, and credits the conversation to who first took it', () => {
    const out = contributionsOf([patient('p1', 0), assigned(2, 'a2', 'billing'), reply('r1', 5, 'a1')], at(10), 300);
    expect(values(out, 'queue')).to.deep.equal([120]);
    const conversation = out.find((c) => c.metric === 'conversations')!;
    expect(conversation).to.include({ teamId: 'billing', agentId: 'a2' });
    // Nobody yet: the team it is in, no agent.
    expect(contributionsOf([patient('p1', 0)], at(1), null).find((c) => c.metric === 'conversations')).to.include({ teamId: 'front', agentId: null });
  });

  it('sums an agent’s active time between actions, cutting idle gaps over 15 minutes, per resolution', () => {
    // a1: assigned 0, replies 3, 10 (7 min), 40 (30 min idle: cut), 41 → 3 + 7 + 1 = 11 min; a2 replies once: 0.
    const moments = [patient('p', 0), assigned(0), reply('r1', 3), reply('r2', 10), reply('r3', 40), reply('x', 41), reply('y', 42, 'a2'), resolved(50)];
    const out = contributionsOf(moments, at(60), 180);
    expect(out.filter((c) => c.metric === 'handle').map((c) => [c.agentId, c.value])).to.deep.equal([['a1', 11 * 60], ['a2', 0]]);
    // Reopened and resolved again: a new sample for what was done since.
    const again = contributionsOf([...moments, reopened(100), reply('z', 101), reply('w', 105), resolved(106)], at(200), 180);
    expect(again.filter((c) => c.metric === 'handle').map((c) => c.value)).to.deep.equal([660, 0, 240]);
  });

  it('decides first-contact resolution when reopened within 7 days, or once the 7 days are over', () => {
    const day = 24 * 60;
    const base = [patient('p', 0), reply('r', 1), resolved(2)];
    expect(values(contributionsOf(base, at(3), 60), 'fcrDecided')).to.deep.equal([]);
    expect(fcrDueAt(base, at(3))).to.deep.equal(new Date(at(2).getTime() + 7 * day * MIN));
    expect(values(contributionsOf(base, at(2 + 7 * day), 60), 'fcrResolved')).to.deep.equal([1]);
    expect(fcrDueAt(base, at(2 + 7 * day))).to.equal(null);
    const reopenedSoon = contributionsOf([...base, reopened(3 * day)], at(4), 60);
    expect([values(reopenedSoon, 'fcrDecided'), values(reopenedSoon, 'fcrResolved')]).to.deep.equal([[1], []]);
    const reopenedLate = contributionsOf([...base, reopened(8 * day)], at(9 * day), 60);
    expect(values(reopenedLate, 'fcrResolved')).to.deep.equal([1]);
  });

  it('counts a web chat abandoned only when the patient had left at its first answer', () => {
    const web = [patient('p', 0, 'webchat'), reply('r', 5, 'a1', 'webchat')];
    expect(values(contributionsOf([...web, { id: 'widget', kind: 'widget', at: at(5), open: false }], at(6), 300), 'abandoned')).to.deep.equal([1]);
    const stayed = contributionsOf([...web, { id: 'widget', kind: 'widget', at: at(5), open: true }], at(6), 300);
    expect([values(stayed, 'webchat'), values(stayed, 'abandoned')]).to.deep.equal([[1], []]);
  });

  it('gives the same contributions whatever order the moments arrive in, and a moment seen twice changes nothing', () => {
    const moments = [patient('p1', 0), assigned(1), reply('r1', 5), patient('p2', 6), reply('r2', 9), resolved(10), reopened(20), patient('p3', 20), reply('r3', 25)];
    const inOrder = moments.reduce<KpiMoment[]>((known, m) => mergeMoments(known, [m]), []);
    const shuffled = [...moments].reverse().reduce<KpiMoment[]>((known, m) => mergeMoments(known, [m, m]), []);
    const keys = (list: KpiMoment[]) => contributionsOf(list, at(30), 300).map(contributionKey).sort();
    expect(keys(shuffled)).to.deep.equal(keys(inOrder));
    expect(differenceOf(keys(inOrder), keys(mergeMoments(inOrder, [reply('r1', 5)])))).to.deep.equal([]);
    // A patient message arriving late (from another node), before the first: the conversation's start, its queue and
    // its first response move: out with the old, in with the new.
    const late = keys(mergeMoments(inOrder, [patient('p0', -3)]));
    const changes = differenceOf(keys(inOrder), late);
    expect(changes.filter((c) => c.sign === -1)).to.have.length.greaterThan(0);
    expect(changes.filter((c) => c.sign === 1)).to.have.length.greaterThan(0);
  });
});

describe('contact-center figures: business time, periods and sketches', () => {
  const weekdays = teamHoursSchema.parse({
    timeZone: 'America/New_York',
    weekly: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, from: '09:00', to: '17:00' })),
    holidays: [{ date: '2026-03-09' }],
  });

  it('counts only open time between two instants, across nights, weekends, holidays and a DST change', () => {
    // Friday 6 March 16:00 New York → Tuesday 10 March 10:00 (Monday a holiday; DST starts Sunday 8 March): 1 h + 1 h.
    expect(openMillisBetween(weekdays, new Date('2026-03-06T21:00:00Z'), new Date('2026-03-10T14:00:00Z'))).to.equal(2 * 3600_000);
    expect(openMillisBetween(null, new Date(T0), new Date(T0 + 5000))).to.equal(5000);
    expect(openMillisBetween(weekdays, new Date(T0 + 5000), new Date(T0))).to.equal(0);
    // Against the minute-by-minute reading of the same hours, over two weeks around the DST change.
    const from = Date.parse('2026-03-05T00:00:00Z');
    for (let start = from; start < from + 14 * 24 * 3600_000; start += 7 * 3600_000 + 13 * MIN) {
      const end = start + 31 * 3600_000;
      let open = 0;
      for (let t = start; t < end; t += MIN) if (isOpenAt(weekdays, new Date(t))) open += MIN;
      expect(openMillisBetween(weekdays, new Date(start), new Date(end)), new Date(start).toISOString()).to.equal(open);
    }
  });

  it('starts the clinic’s days at local midnight, 23 and 25 hours long across DST', () => {
    const zone = 'America/New_York';
    expect(new Date(dayStart(Date.parse('2026-03-08T12:00:00Z'), zone)).toISOString()).to.equal('2026-03-08T05:00:00.000Z');
    const days = periodsBetween(Date.parse('2026-03-07T12:00:00Z'), Date.parse('2026-03-10T00:00:00Z'), 'day', zone).map((p) => new Date(p).toISOString());
    expect(days).to.deep.equal(['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    expect(periodsBetween(Date.parse('2026-03-10T08:30:00Z'), Date.parse('2026-03-10T11:00:00Z'), 'hour', zone)).to.have.length(3);
  });

  it('stores sketches as bins that merge, and takes a value out exactly', () => {
    const samples = [0, 0.4, 12, 60, 61, 300, 301, 1800, 86_400, 7 * 86_400];
    const key = (value: number, agentId = 'a1'): string => contributionKey({ metric: 'response', at: T0, teamId: 'front', agentId, channel: 'sms', value });
    const writes = bucketWrites(samples.map((v, i) => ({ key: key(v, i % 2 ? 'a1' : 'a2'), sign: 1 as const })), 'UTC');
    const merged = new MergedFigures();
    for (const w of writes.hourly.filter((x) => x.agentId === '*' && x.teamId === '*')) merged.add(toBucketDocument(w));
    const reference = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of samples) reference.accept(v);
    for (const q of [0.5, 0.9]) {
      const got = q === 0.5 ? merged.figures().responseSeconds.median! : merged.figures().responseSeconds.p90!;
      expect(got).to.be.closeTo(reference.getValueAtQuantile(q), reference.getValueAtQuantile(q) * 0.001 + 0.001);
    }
    // Added then taken out: nothing left.
    const both = bucketWrites([{ key: key(300), sign: 1 }, { key: key(300), sign: -1 }], 'UTC');
    expect(both.hourly).to.deep.equal([]);
    expect(new MergedFigures().figures()).to.deep.include({ conversations: 0, responseSeconds: { median: null, p90: null }, abandonmentRate: null });
  });
});
