/**
 * Which sender Twilio is asked to use (sandbox requests are the form fields the SDK would post), and the
 * per-patient card's texting number and the pool's spread (pure helpers).
 */
import { expect } from 'chai';
import type { OutboundEnvelope } from '../../channels/contract.ts';
import { createSmsAdapter, type SmsAdapterConfig } from '../../channels/sms/sms-adapter.ts';
import type { ClinicCard } from '../../channels/vcard/clinic-card.ts';
import { withTextingNumber } from '../../server/delivery/contact-cards.ts';
import { rendezvous } from '../../server/delivery/sender-pool.ts';

const SERVICE = 'MG0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a';

async function requestFor(config: Partial<SmsAdapterConfig>, envelope: Partial<OutboundEnvelope> = {}) {
  const recorded: Record<string, unknown>[] = [];
  const adapter = createSmsAdapter(
    { authToken: 'x'.repeat(20), publicBaseUrl: 'https://hub.example.com', sandboxSlowDeliveryMs: 0, ...config },
    { record: async (entry) => void recorded.push(entry.request) },
    { simulateStatusCallback: async () => {} },
  );
  const outcome = await adapter.send({ messageId: 'm1', conversationId: 'c1', channel: 'sms', to: '+14155550100', body: 'hi', ...envelope });
  expect(outcome.ok).to.equal(true);
  return recorded[0]!;
}

describe('SMS sender: From, Messaging Service and the card’s texting number', () => {
  it('sends From the hub’s choice, else the configured number', async () => {
    expect(await requestFor({ fromNumber: '+15555550101' }, { from: '+15555550102' })).to.include({ From: '+15555550102' }).and.not.have.property('MessagingServiceSid');
    expect(await requestFor({ fromNumber: '+15555550101' })).to.include({ From: '+15555550101' });
  });

  it('keeps MessagingServiceSid without a number of ours (Twilio chooses), and sends both when the hub chose one', async () => {
    const serviceOnly = await requestFor({ messagingServiceSid: SERVICE });
    expect(serviceOnly).to.include({ MessagingServiceSid: SERVICE }).and.not.have.property('From');
    expect(await requestFor({ messagingServiceSid: SERVICE }, { from: '+15555550102' })).to.include({ MessagingServiceSid: SERVICE, From: '+15555550102' });
  });

  it('puts the patient’s number on the card in place of the pool’s, keeping the other numbers', () => {
    const card: ClinicCard = {
      organization: 'Clinic',
      phones: [
        { number: '+15555550199', types: ['main', 'voice'] },
        { number: '+15555550101', types: ['work', 'text'], label: 'Texts' },
        { number: '+15555550102', types: ['work', 'text'] },
      ],
    };
    const pool = ['+15555550101', '+15555550102', '+15555550103'];
    expect(withTextingNumber(card, '+15555550103', pool).phones).to.deep.equal([
      { number: '+15555550199', types: ['main', 'voice'] },
      { number: '+15555550103', types: ['work', 'text'], label: 'Texts' },
    ]);
    expect(withTextingNumber({ ...card, phones: [card.phones[0]!] }, '+15555550103', pool).phones.map((p) => p.number)).to.deep.equal(['+15555550103', '+15555550199']);
  });

  it('spreads patients over the pool the same way everywhere, and moves only a removed number’s patients', () => {
    const pool = ['+15555550101', '+15555550102', '+15555550103'];
    const ids = Array.from({ length: 600 }, (_, i) => `patient-${i}`);
    const chosen = ids.map((id) => rendezvous(id, pool));
    for (const n of pool) expect(chosen.filter((c) => c === n).length).to.be.within(150, 250);
    expect(ids.map((id) => rendezvous(id, [...pool].reverse()))).to.deep.equal(chosen);
    const without = ids.map((id) => rendezvous(id, pool.slice(1)));
    ids.forEach((_, i) => {
      if (chosen[i] !== pool[0]) expect(without[i]).to.equal(chosen[i]);
    });
  });
});
