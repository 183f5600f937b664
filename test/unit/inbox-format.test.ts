import { expect } from 'chai';
import { channelReasonLabel, unavailableLabel } from '../../client-inbox/src/format.ts';

describe('the inbox’s words for why a message went where it went', () => {
  it('says a contact card the hub sent by itself was automatic, not chosen by the agent', () => {
    expect(channelReasonLabel('automatic_contact_card', 'sms')).to.equal("SMS, sent automatically: the clinic's contact card for a first contact");
    expect(channelReasonLabel('automatic_contact_card_update', 'email')).to.match(/^Email, sent automatically: the clinic's contact card changed/);
    expect(channelReasonLabel('requested_by_agent', 'sms')).to.equal('SMS chosen by the agent');
  });

  it('says why a channel is unavailable after a bounce, with the hub’s own words when it gave them', () => {
    expect(unavailableLabel('undeliverable', 'email', 'the email address bounced')).to.equal('the email address bounced');
    expect(unavailableLabel('undeliverable', 'email')).to.equal('the email address bounced');
    expect(unavailableLabel('undeliverable', 'sms')).to.equal('the number cannot receive texts');
  });
});
