/** How the supervisor dashboard reads its figures and its period (client-inbox/src/reports.ts). */
import { expect } from 'chai';
import { chartSummary, formatDuration, formatRate, formatScore, kpiQueryString, nextDay, periodDay, periodProblem, type DaySeries } from '../../client-inbox/src/reports.ts';

describe('supervisor dashboard figures', () => {
  it('reads durations, rates and scores, and says a missing figure is missing', () => {
    expect(formatDuration(45)).to.equal('45 s');
    expect(formatDuration(180)).to.equal('3 min');
    expect(formatDuration(200.4)).to.equal('3 min 20 s');
    expect(formatDuration(3900)).to.equal('1 h 5 min');
    expect(formatDuration(7200)).to.equal('2 h');
    expect(formatDuration(null)).to.equal('—');
    expect(formatRate(0.125)).to.equal('12.5%');
    expect(formatRate(null)).to.equal('—');
    expect(formatScore(4.26)).to.equal('4.3 / 5');
    expect(formatScore(null)).to.equal('—');
  });

  it('checks the period: both dates, in order, at most 366 days', () => {
    expect(periodProblem('2026-03-01', '2026-03-07')).to.equal(null);
    expect(periodProblem('', '2026-03-07')?.field).to.equal('from');
    expect(periodProblem('2026-03-08', '2026-03-07')).to.deep.equal({ field: 'to', message: 'The end date is before the start date' });
    expect(periodProblem('2025-01-01', '2026-03-07')?.message).to.equal('At most 366 days at a time');
  });

  it('asks the KPI report for the shown days with `to` excluded (the day after), and names each period by its clinic day', () => {
    expect(nextDay('2026-02-28')).to.equal('2026-03-01');
    expect(nextDay('2026-12-31')).to.equal('2027-01-01');
    expect(kpiQueryString({ from: '2026-03-10', to: '2026-03-10', team: 'front-desk' })).to.equal('from=2026-03-10&to=2026-03-11&granularity=day&team=front-desk');
    expect(kpiQueryString({ from: '2026-03-10', to: '2026-03-12', team: '' })).to.equal('from=2026-03-10&to=2026-03-13&granularity=day');
    // The periods are instants (the clinic's midnight); whatever the browser's zone, the i-th is from + i days (DST included).
    expect(periodDay('2026-03-08T05:00:00.000Z', 0, '2026-03-08')).to.equal('2026-03-08');
    expect(periodDay('2026-03-09T04:00:00.000Z', 1, '2026-03-08')).to.equal('2026-03-09');
    expect(periodDay('2026-03-31', 0, '2026-03-08')).to.equal('2026-03-31');
  });

  it('sums a chart up in words: its span, and each series’ highest and lowest day', () => {
    const series: DaySeries[] = [
      { label: 'Conversations', kind: 'bar', color: '#000', values: [4, 12, null, 2], format: (v) => String(v) },
      { label: 'First response (median)', kind: 'line', color: '#000', values: [null, null, null, null], format: (v) => String(v) },
    ];
    expect(chartSummary('Conversations per day', ['Mon', 'Tue', 'Wed', 'Thu'], series)).to.equal(
      'Conversations per day, Mon to Thu. Conversations: highest 12 on Tue, lowest 2 on Thu. First response (median): no data.',
    );
    expect(chartSummary('Conversations per day', [], [])).to.equal('Conversations per day: no days in the period.');
  });
});
