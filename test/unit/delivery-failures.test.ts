import { expect } from 'chai';
import { describeSendGridFailure, unavailableReasonFor as emailUnavailableReason } from '../../channels/email/sendgrid-outcomes.ts';
import { describeTwilioFailure, mapTwilioError, TWILIO_DELIVERY_ERRORS, unavailableReasonFor as smsUnavailableReason } from '../../channels/sms/twilio-outcomes.ts';

const PHONE = '+14155550123';
const EMAIL = 'jane.doe@example.com';
const TWILIO_CODES = ['30003', '30004', '30005', '30006', '30007', '30008', '21610', '21614', '21211', '21408', '21612', '30032', '30034'];

function expectNoPhi(value: unknown): void {
  const json = JSON.stringify(value);
  expect(json).to.not.include(EMAIL);
  expect(json).to.not.include('@');
  expect(json).to.not.include('4155550123');
}

describe('describeTwilioFailure', () => {
  for (const code of TWILIO_CODES) {
    it(`words ${code} for agents`, () => {
      const failure = describeTwilioFailure(code);
      expect(failure.code).to.match(/^SMS_[A-Z_]+$/);
      expect(failure.message).to.have.length.greaterThan(10);
      expect(failure.suggestion).to.have.length.greaterThan(10);
      expect(failure.providerCode).to.equal(code);
      expectNoPhi(failure);
    });
  }

  it('gives our codes and retryability', () => {
    const summary = Object.fromEntries(TWILIO_CODES.map((c) => [c, [describeTwilioFailure(c).code, describeTwilioFailure(c).retryable]]));
    expect(summary).to.deep.equal({
      '30003': ['SMS_HANDSET_UNREACHABLE', true],
      '30004': ['SMS_BLOCKED', false],
      '30005': ['SMS_UNKNOWN_NUMBER', false],
      '30006': ['SMS_LANDLINE', false],
      '30007': ['SMS_CARRIER_FILTERED', false],
      '30008': ['SMS_CARRIER_ERROR', true],
      '21610': ['SMS_OPTED_OUT', false],
      '21614': ['SMS_NOT_MOBILE', false],
      '21211': ['SMS_INVALID_NUMBER', false],
      '21408': ['SMS_COUNTRY_NOT_ENABLED', false],
      '21612': ['SMS_NOT_REACHABLE', false],
      '30032': ['SMS_SENDER_NOT_REGISTERED', false],
      '30034': ['SMS_SENDER_NOT_REGISTERED', false],
    });
  });

  it('says what to do next for the cases agents meet most', () => {
    expect(describeTwilioFailure('30007').suggestion).to.match(/email or web chat/);
    expect(describeTwilioFailure('30006').suggestion).to.match(/^Call the patient/);
    expect(describeTwilioFailure('30005').suggestion).to.match(/Check the number with the patient/);
    expect(describeTwilioFailure('21610').suggestion).to.match(/START/);
    expect(describeTwilioFailure('21610').message).to.not.match(/fail|error/i);
    expect(describeTwilioFailure('30034').suggestion).to.match(/administrator/);
  });

  it('gives unknown, missing and malformed codes the default, echoing only a plain code', () => {
    expect(describeTwilioFailure('99999')).to.deep.include({ code: 'SMS_UNDELIVERED', retryable: false, providerCode: '99999' });
    expect(describeTwilioFailure(undefined)).to.deep.include({ code: 'SMS_UNDELIVERED', providerCode: 'UNKNOWN' });
    expect(describeTwilioFailure('')).to.deep.include({ code: 'SMS_UNDELIVERED', providerCode: 'UNKNOWN' });
    const odd = describeTwilioFailure(PHONE);
    expect(odd).to.deep.include({ code: 'SMS_UNDELIVERED', providerCode: 'UNKNOWN' });
    expectNoPhi(odd);
  });

  it('keeps TWILIO_DELIVERY_ERRORS as the catalogue messages, with the original wording', () => {
    expect(TWILIO_DELIVERY_ERRORS['30007']).to.equal('Filtered by the carrier as spam');
    expect(TWILIO_DELIVERY_ERRORS['21610']).to.equal('The patient replied STOP to this number');
    for (const code of TWILIO_CODES) expect(TWILIO_DELIVERY_ERRORS[code]).to.equal(describeTwilioFailure(code).message);
    expect(TWILIO_DELIVERY_ERRORS['99999']).to.equal(undefined);
  });

  it('names why SMS is unavailable after lasting failures only, by Twilio code or ours', () => {
    expect(smsUnavailableReason('30006')).to.equal('the number is a landline or its carrier is unreachable');
    expect(smsUnavailableReason('SMS_LANDLINE')).to.equal('the number is a landline or its carrier is unreachable');
    expect(smsUnavailableReason('21610')).to.equal('the patient replied STOP');
    for (const passing of ['30003', '30007', '30008', '99999', 'SMS_UNDELIVERED']) expect(smsUnavailableReason(passing), passing).to.equal(null);
  });
});

describe('mapTwilioError', () => {
  it('keeps 21610 an opt-out, with the catalogue texts', () => {
    const failure = mapTwilioError({ status: 400, code: 21610, message: `Attempt to send to unsubscribed recipient ${PHONE}` });
    expect(failure).to.deep.equal({
      code: 'RECIPIENT_OPTED_OUT',
      message: describeTwilioFailure('21610').message,
      suggestion: describeTwilioFailure('21610').suggestion,
      retryable: false,
      providerCode: '21610',
      recipientOptedOut: true,
    });
    expectNoPhi(failure);
  });

  it('keeps its outcome codes and retryability', () => {
    const cases: [unknown, string, boolean, string][] = [
      [{ status: 400, code: 21211 }, 'INVALID_NUMBER', false, '21211'],
      [{ status: 400, code: 21408 }, 'NOT_REACHABLE', false, '21408'],
      [{ status: 400, code: 21612 }, 'NOT_REACHABLE', false, '21612'],
      [{ status: 400, code: 21614 }, 'PROVIDER_REFUSED', false, '21614'],
      [{ status: 400, code: 21602 }, 'PROVIDER_REFUSED', false, '21602'],
      [{ status: 401 }, 'PROVIDER_REFUSED', false, 'HTTP_401'],
      [{ status: 503 }, 'PROVIDER_UNAVAILABLE', true, 'HTTP_503'],
      [{ status: 503, code: 20500 }, 'PROVIDER_UNAVAILABLE', true, '20500'],
      [{ status: 429, code: 20429 }, 'PROVIDER_UNAVAILABLE', true, '20429'],
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'PROVIDER_UNAVAILABLE', true, 'ECONNREFUSED'],
      [new Error('socket hang up'), 'PROVIDER_UNAVAILABLE', true, 'NETWORK'],
    ];
    for (const [error, code, retryable, providerCode] of cases) {
      const failure = mapTwilioError(error);
      expect(failure, JSON.stringify(error)).to.deep.include({ code, retryable, providerCode });
      expect(failure.suggestion, code).to.be.a('string').and.have.length.greaterThan(10);
    }
  });

  it('words create-time errors as the status callbacks do', () => {
    for (const code of [21610, 21614, 21211, 21408]) {
      const failure = mapTwilioError({ status: 400, code });
      const described = describeTwilioFailure(String(code));
      expect(failure, String(code)).to.deep.include({ message: described.message, suggestion: described.suggestion });
    }
  });
});

describe('describeSendGridFailure', () => {
  const bounce = (extra: Record<string, string>) => describeSendGridFailure({ event: 'bounce', reason: `550 5.1.1 <${EMAIL}>: Recipient address rejected`, ...extra });

  it('words a hard bounce and a blocked one', () => {
    expect(bounce({ type: 'bounce' })).to.deep.equal({
      code: 'EMAIL_BOUNCED', message: 'The email address bounced', suggestion: 'Check the address with the patient', retryable: false, providerCode: 'bounce',
    });
    const blocked = bounce({ type: 'blocked', status: '4.7.1' });
    expect(blocked).to.deep.include({ code: 'EMAIL_BLOCKED', retryable: true, providerCode: 'blocked 4.7.1' });
    expect(blocked!.suggestion).to.equal('Try again later or use another channel');
  });

  it('lets bounce_classification shape the text', () => {
    const expected: Record<string, [string, boolean]> = {
      'Invalid Address': ['EMAIL_INVALID_ADDRESS', false],
      Technical: ['EMAIL_TECHNICAL', true],
      'Technical Failure': ['EMAIL_TECHNICAL', true],
      Content: ['EMAIL_CONTENT_REFUSED', false],
      Reputation: ['EMAIL_SENDER_REPUTATION', false],
      'Frequency or Volume Too High': ['EMAIL_RATE_LIMITED', true],
      'Mailbox Unavailable': ['EMAIL_MAILBOX_UNAVAILABLE', true],
      Unclassified: ['EMAIL_BOUNCED', false],
    };
    for (const [classification, [code, retryable]] of Object.entries(expected)) {
      const failure = bounce({ type: 'bounce', bounce_classification: classification });
      expect(failure, classification).to.deep.include({ code, retryable });
      expect(failure!.message, classification).to.have.length.greaterThan(10);
      expect(failure!.suggestion, classification).to.have.length.greaterThan(10);
      expectNoPhi(failure);
    }
    expect(bounce({ type: 'blocked', bounce_classification: 'Unclassified' })).to.deep.include({ code: 'EMAIL_BLOCKED' });
  });

  it('reads a bad-address status when there is no classification', () => {
    expect(bounce({ type: 'bounce', status: '5.1.1' })).to.deep.include({ code: 'EMAIL_INVALID_ADDRESS', message: 'The email address does not exist', providerCode: 'bounce 5.1.1' });
  });

  it('explains each dropped reason', () => {
    const expected: Record<string, string> = {
      'Bounced Address': 'EMAIL_DROPPED_BOUNCED',
      'Unsubscribed Address': 'EMAIL_DROPPED_UNSUBSCRIBED',
      'Spam Reporting Address': 'EMAIL_DROPPED_SPAM_REPORT',
      Invalid: 'EMAIL_DROPPED_INVALID',
      'Invalid SMTPAPI header': 'EMAIL_DROPPED_INVALID_HEADER',
    };
    for (const [reason, code] of Object.entries(expected)) {
      const failure = describeSendGridFailure({ event: 'dropped', reason, status: '5.0.0' });
      expect(failure, reason).to.deep.include({ code, retryable: false });
      expect(failure!.message, reason).to.match(/^Not sent: /);
      expect(failure!.suggestion, reason).to.have.length.greaterThan(5);
    }
    expect(describeSendGridFailure({ event: 'dropped', reason: `Something new about ${EMAIL}` })).to.deep.include({ code: 'EMAIL_DROPPED', providerCode: 'dropped' });
  });

  it('never shows the provider reason, an address or a malformed status', () => {
    const events = [
      { event: 'bounce', type: 'bounce', reason: `550 <${EMAIL}> no such user`, status: `5.1.1 ${EMAIL}` },
      { event: 'bounce', type: 'blocked', reason: `421 try later ${EMAIL}`, bounce_classification: 'Technical' },
      { event: 'dropped', reason: `Invalid ${EMAIL}` },
      { event: 'dropped', reason: 'Bounced Address', status: PHONE },
    ];
    for (const event of events) {
      const failure = describeSendGridFailure(event);
      expect(failure).to.not.equal(null);
      expectNoPhi(failure);
      expect(failure!.message).to.not.include(event.reason);
    }
    expect(describeSendGridFailure(events[0]!)!.providerCode).to.equal('bounce');
  });

  it('is null for deferred and other events, which are not failures', () => {
    for (const event of ['deferred', 'processed', 'delivered', 'open', 'click', 'spamreport', 'unsubscribe']) {
      expect(describeSendGridFailure({ event, reason: 'x', type: 'bounce' }), event).to.equal(null);
    }
  });

  it('names why email is unavailable after lasting failures only', () => {
    expect(emailUnavailableReason('EMAIL_BOUNCED')).to.equal('the email address bounced');
    expect(emailUnavailableReason('EMAIL_INVALID_ADDRESS')).to.equal('the email address does not exist');
    expect(emailUnavailableReason('EMAIL_DROPPED_UNSUBSCRIBED')).to.equal('the patient unsubscribed from email');
    for (const passing of ['EMAIL_BLOCKED', 'EMAIL_TECHNICAL', 'EMAIL_RATE_LIMITED', 'EMAIL_DROPPED_INVALID_HEADER', 'NOPE']) expect(emailUnavailableReason(passing), passing).to.equal(null);
  });
});
