import { expect } from 'chai';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { Consent } from '../../server/db/documents.ts';
import { AppError } from '../../server/errors.ts';
import { chooseReplyChannel, type ReplyChannelFacts } from '../../server/timeline/reply/choose-reply-channel.ts';

const consent = (sms: Consent['status'], email: Consent['status'], webchat: Consent['status'] = 'unknown'): Record<ChannelId, Consent> => ({
  sms: { status: sms },
  email: { status: email },
  webchat: { status: webchat },
});

function facts(overrides: Partial<ReplyChannelFacts> = {}): ReplyChannelFacts {
  return {
    consent: consent('opted_in', 'opted_in'),
    verifiedIdentity: { sms: true, email: true, webchat: true },
    widgetConnected: false,
    lastInboundChannel: 'email',
    preferredChannel: 'sms',
    ...overrides,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('did not throw');
}

describe('chooseReplyChannel (continuity rules)', () => {
  it('answers in the web chat while the patient’s widget is connected', () => {
    expect(chooseReplyChannel(facts({ widgetConnected: true }), 'auto')).to.deep.equal({ channel: 'webchat', reason: 'widget_connected' });
  });

  it('otherwise answers on the channel the patient last wrote from', () => {
    expect(chooseReplyChannel(facts(), 'auto')).to.deep.equal({ channel: 'email', reason: 'last_inbound_channel' });
  });

  it('falls back to the preferred channel when the last one has no consent', () => {
    const f = facts({ consent: consent('opted_in', 'opted_out') });
    expect(chooseReplyChannel(f, 'auto')).to.deep.equal({ channel: 'sms', reason: 'preferred_channel' });
  });

  it('never picks the web chat when the widget is closed, even if the patient last wrote there', () => {
    const f = facts({ lastInboundChannel: 'webchat', preferredChannel: null, consent: consent('unknown', 'opted_in') });
    expect(chooseReplyChannel(f, 'auto')).to.deep.equal({ channel: 'email', reason: 'only_reachable_channel' });
  });

  it('never texts a patient who opted out, even when asked to explicitly', () => {
    const f = facts({
      consent: consent('opted_out', 'unknown'),
      verifiedIdentity: { sms: true, email: true, webchat: false },
      lastInboundChannel: 'sms',
    });
    expect(codeOf(() => chooseReplyChannel(f, 'sms'))).to.equal('CONSENT_MISSING');
    expect(codeOf(() => chooseReplyChannel(f, 'auto'))).to.equal('NO_REACHABLE_CHANNEL');
  });

  it('refuses a channel without a verified identity', () => {
    const f = facts({ verifiedIdentity: { sms: false, email: true, webchat: false } });
    expect(codeOf(() => chooseReplyChannel(f, 'sms'))).to.equal('NO_IDENTITY_FOR_CHANNEL');
    expect(chooseReplyChannel(f, 'auto').channel).to.equal('email');
  });

  it('keeps an explicit, allowed choice with the reason "requested_by_agent"', () => {
    expect(chooseReplyChannel(facts(), 'sms')).to.deep.equal({ channel: 'sms', reason: 'requested_by_agent' });
  });
});

describe('chooseReplyChannel when the web chat is all there is', () => {
  it('leaves the reply in the chat for the patient’s return, saying so', () => {
    const f = facts({ verifiedIdentity: { sms: false, email: false, webchat: true }, lastInboundChannel: 'webchat', consent: consent('unknown', 'unknown') });
    expect(chooseReplyChannel(f, 'auto')).to.deep.equal({ channel: 'webchat', reason: 'widget_offline_only_channel' });
  });
});
