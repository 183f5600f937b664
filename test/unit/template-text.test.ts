import { expect } from 'chai';
import { describeSmsBody } from '../../channels/sms/segments.ts';
import { AppError } from '../../server/errors.ts';
import { checkGivenAreUsed, fillTemplate, formatDate, formatTime, placeholdersOf } from '../../server/outreach/templates/template-text.ts';

const context = (given: Record<string, string>, language: 'en' | 'es' | 'it' = 'en', timeZone = 'America/New_York') => ({
  language, timeZone, clinicName: 'Riverside Clinic', patientName: 'Maria Lopez', given,
});

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

describe('template text: variables, never a message with a hole', () => {
  it('names an unknown variable, and a brace typed wrong', () => {
    const unknown = refusal(() => placeholdersOf('Hi {{firstname}}', 'bodies.en', { phiFree: false }));
    expect(unknown.message).to.include('{{firstname}}');
    expect(unknown.details.field).to.equal('bodies.en');
    expect(refusal(() => placeholdersOf('Hi {firstName}}', 'bodies.en', { phiFree: false })).message).to.include('without its pair');
  });

  it('keeps clinical detail out of the PHI-free variant, which must carry the secure link', () => {
    expect(refusal(() => placeholdersOf('At {{location}}: {{link}}', 'phiFreeBodies.en', { phiFree: true })).message).to.include('{{location}} is clinical detail');
    expect(refusal(() => placeholdersOf('See you {{date}}', 'phiFreeBodies.es', { phiFree: true })).message).to.include('{{link}}');
    expect(placeholdersOf('Hi {{ firstName }}, {{date}}: {{link}}', 'phiFreeBodies.en', { phiFree: true })).to.deep.equal(['firstName', 'date', 'link']);
  });

  it('refuses a missing value by its name, and a given one the template does not use', () => {
    const missing = refusal(() => fillTemplate('On {{date}} at {{location}}', 'bodies.en', context({ location: 'Suite 4' }), { phiFree: false }));
    expect(missing.message).to.match(/^variables\.appointmentAt: /);
    const noLocation = refusal(() => fillTemplate('At {{location}}', 'bodies.en', context({}), { phiFree: false }));
    expect(noLocation.details.field).to.equal('variables.location');
    const unused = refusal(() => checkGivenAreUsed({ provider: 'Dr. Rossi' }, new Set(['firstName'])));
    expect(unused.message).to.equal('variables.provider: the template has no {{provider}}');
  });

  it('fills the first name from the name on file, the clinic, and keeps {{link}} for the send', () => {
    const text = fillTemplate('Hi {{firstName}}, {{clinicName}}: {{link}}', 'bodies.en', context({}), { phiFree: false });
    expect(text).to.equal('Hi Maria, Riverside Clinic: {{link}}');
  });

  it('writes the time in the patient’s zone on both sides of a DST change (New York, March 14 2027)', () => {
    // 14:30 UTC is 9:30 EST before the change; 13:30 UTC is 9:30 EDT after it.
    expect(formatTime(new Date('2027-03-12T14:30:00Z'), 'en', 'America/New_York')).to.equal('9:30 AM');
    expect(formatTime(new Date('2027-03-15T13:30:00Z'), 'en', 'America/New_York')).to.equal('9:30 AM');
    expect(formatDate(new Date('2027-03-15T13:30:00Z'), 'en', 'America/New_York')).to.equal('Monday, March 15');
    // The same instant in Rome (CET until March 28) and in Spanish and Italian.
    expect(formatTime(new Date('2027-03-15T13:30:00Z'), 'it', 'Europe/Rome')).to.equal('14:30');
    expect(formatDate(new Date('2027-03-15T13:30:00Z'), 'es', 'Europe/Madrid')).to.equal('lunes, 15 de marzo');
    expect(formatDate(new Date('2027-03-15T23:30:00Z'), 'it', 'Europe/Rome')).to.equal('martedì 16 marzo');
  });

  it('writes plain spaces, so an English time does not turn a text into UCS-2', () => {
    const text = fillTemplate('Your visit is on {{date}} at {{time}}.', 'bodies.en', context({ appointmentAt: '2027-03-15T17:45:00Z' }), { phiFree: false });
    expect(text).to.equal('Your visit is on Monday, March 15 at 1:45 PM.');
    expect(describeSmsBody(text).encoding).to.equal('GSM-7');
  });
});
