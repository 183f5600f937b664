/**
 * The clinic's card as the hub sends it: rendered from the configured card
 * with a stable UID and a REV that moves only when the card's content does
 * (the revision and its date are kept in hub_settings across restarts).
 * Sends it by itself on a patient's first SMS contact, and after a change to
 * every patient who saved an earlier revision (CONTACT_CARD_ON_FIRST_SMS,
 * CONTACT_CARD_ON_CHANGE), at most once per revision, never without consent.
 */
import { cardRevision, cardUid, renderVCard, vcardFileName, type ClinicCard } from '../../channels/vcard/clinic-card.ts';
import type { ClinicCardSettings } from '../../channels/vcard/card-settings.ts';
import { AppError } from '../errors.ts';
import type { ConversationDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { sendContactCard, type ContactCardFile } from '../timeline/reply/send-contact-card.ts';

const SETTING_ID = 'contact-card';

export class ContactCards {
  private file: Promise<ContactCardFile & { changedFrom: string | null }> | undefined;

  constructor(
    private readonly ctx: TimelineContext,
    private readonly settings: ClinicCardSettings | null,
    private readonly options: { uidSeed: string; onFirstSms: boolean; onChange: boolean; senders?: readonly string[] },
  ) {}

  /** The card to send now; CONFLICT when the clinic has none configured. */
  async current(): Promise<ContactCardFile & { changedFrom: string | null }> {
    if (!this.settings) {
      throw new AppError('CONFLICT', 'The clinic’s contact card is not configured: set CLINIC_CARD_FILE (or at least TWILIO_FROM_NUMBER)');
    }
    this.file ??= this.load(this.settings);
    return this.file;
  }

  /** A patient's first text: answer with the card so the clinic's number is saved by name. */
  async onFirstSms(conversationId: string): Promise<void> {
    if (!this.settings || !this.options.onFirstSms) return;
    const conversation = await this.ctx.models.Conversation.findById(conversationId).lean();
    if (conversation) await sendContactCard(this.ctx, null, conversation, 'sms', await this.current());
  }

  /** After a change of the card: send the new one to every patient who has an earlier one. Returns how many were queued. */
  async rollOut(): Promise<number> {
    if (!this.settings || !this.options.onChange) return 0;
    const card = await this.current();
    if (!card.changedFrom) return 0;
    const { models } = this.ctx;
    const patients = await models.Patient.find({ contactCardRevision: { $nin: [null, card.revision] } }, { _id: 1, latestConversationId: 1 }).lean();
    let queued = 0;
    for (const patient of patients) {
      const conversation: ConversationDoc | null = patient.latestConversationId ? await models.Conversation.findById(patient.latestConversationId).lean() : null;
      if (conversation && (await sendContactCard(this.ctx, null, conversation, 'auto', card))) queued++;
    }
    this.ctx.logger.info({ revision: card.revision, patients: patients.length, queued }, 'contact card change sent to patients who had the earlier card');
    return queued;
  }

  private async load(settings: ClinicCardSettings): Promise<ContactCardFile & { changedFrom: string | null }> {
    const { models } = this.ctx;
    const revision = cardRevision(settings.card);
    const stored = await models.HubSetting.findById(SETTING_ID).lean();
    let revisedAt = stored?.value.revisedAt ? new Date(String(stored.value.revisedAt)) : null;
    let changedFrom: string | null = null;
    if (stored?.value.revision !== revision || !revisedAt) {
      changedFrom = typeof stored?.value.revision === 'string' ? stored.value.revision : null;
      revisedAt = this.ctx.clock();
      await models.HubSetting.updateOne(
        { _id: SETTING_ID },
        { $set: { value: { revision, revisedAt: revisedAt.toISOString(), previous: changedFrom }, updatedAt: revisedAt } },
        { upsert: true },
      );
    } else if (typeof stored.value.previous === 'string') {
      changedFrom = stored.value.previous; // a restart during a rollout finishes it (sends are once per revision)
    }
    const render = (card: ClinicCard) => renderVCard(card, { version: settings.version, uid: cardUid(this.options.uidSeed), rev: revisedAt });
    const vcf = render(settings.card);
    const senders = this.options.senders ?? [];
    // Several sending numbers: each patient's card names theirs (the same card otherwise, so the same UID and revision).
    const perSender = new Map<string, string>();
    const forSender = (number: string) => {
      if (!perSender.has(number)) perSender.set(number, render(withTextingNumber(settings.card, number, senders)));
      return perSender.get(number)!;
    };
    return { organization: settings.card.organization, revision, fileName: vcardFileName(settings.card.organization), vcf, changedFrom, ...(senders.length > 1 ? { forSender } : {}) };
  }
}

/**
 * The card with `number` as the clinic's texting number: the pool's numbers on the card become that one
 * entry (in the first one's place, with its types and label), so a patient never saves a number they will not
 * hear from; a card that lists none of them gets it first, as a work and text number.
 */
export function withTextingNumber(card: ClinicCard, number: string, senders: readonly string[]): ClinicCard {
  const first = card.phones.findIndex((p) => senders.includes(p.number));
  if (first < 0) return { ...card, phones: [{ number, types: ['work', 'text'] }, ...card.phones] };
  const phones = card.phones.flatMap((p, i) => (i === first ? [{ ...p, number }] : senders.includes(p.number) ? [] : [p]));
  return { ...card, phones };
}
