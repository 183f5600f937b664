import { expect } from 'chai';
import { isQuietAt, nextSendableAt, parseQuietHours, QuietHoursError } from '../../server/outreach/quiet-hours.ts';

describe('quiet hours for outreach', () => {
  const night = parseQuietHours('21:00-08:00');

  it('parses the setting, "off", and refuses nonsense', () => {
    expect(night).to.deep.equal({ start: 21 * 60, end: 8 * 60 });
    expect(parseQuietHours('off')).to.equal(null);
    expect(parseQuietHours('13:00-14:30')).to.deep.equal({ start: 780, end: 870 });
    for (const bad of ['9-5', '25:00-08:00', '08:00-08:00', 'nights']) expect(() => parseQuietHours(bad), bad).to.throw(QuietHoursError);
  });

  it('is quiet from 21:00 to 08:00 local time, and says when it ends', () => {
    const zone = 'America/New_York';
    expect(isQuietAt(night, new Date('2027-03-10T14:00:00Z'), zone)).to.equal(false); // 09:00
    expect(isQuietAt(night, new Date('2027-03-11T02:00:00Z'), zone)).to.equal(true); // 21:00
    expect(isQuietAt(night, new Date('2027-03-11T12:59:00Z'), zone)).to.equal(true); // 07:59
    expect(nextSendableAt(night, new Date('2027-03-11T02:00:00Z'), zone).toISOString()).to.equal('2027-03-11T13:00:00.000Z');
    const daytime = new Date('2027-03-10T15:00:00Z');
    expect(nextSendableAt(night, daytime, zone)).to.equal(daytime);
    expect(nextSendableAt(null, new Date('2027-03-11T02:00:00Z'), zone).toISOString()).to.equal('2027-03-11T02:00:00.000Z');
  });

  it('follows daylight saving time: the night before the spring change ends at 08:00 EDT', () => {
    // 2027-03-14: New York moves from UTC-5 to UTC-4 at 02:00.
    expect(nextSendableAt(night, new Date('2027-03-14T03:00:00Z'), 'America/New_York').toISOString()).to.equal('2027-03-14T12:00:00.000Z');
  });

  it('handles quiet hours that do not cross midnight', () => {
    const lunch = parseQuietHours('12:00-13:00');
    expect(isQuietAt(lunch, new Date('2027-03-10T12:30:00Z'), 'UTC')).to.equal(true);
    expect(isQuietAt(lunch, new Date('2027-03-10T13:00:00Z'), 'UTC')).to.equal(false);
    expect(nextSendableAt(lunch, new Date('2027-03-10T12:30:00Z'), 'UTC').toISOString()).to.equal('2027-03-10T13:00:00.000Z');
  });
});
