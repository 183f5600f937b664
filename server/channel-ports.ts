/**
 * The hub's side of channels/contract.ts: what a channel may do to the
 * timeline, and nothing more. Channels get these ports at start (registry.ts)
 * and never import server/.
 */
import type { ConsentChange, DeliveryReceipt, DeliveryUpdate, HubPorts, IngestReceipt, NormalizedInbound, StoredFile } from '../channels/contract.ts';
import { ACCEPTED_ATTACHMENT_TYPES, MAX_STORED_ATTACHMENT_BYTES, canonicalType, sniffAttachment, storeAttachment } from './attachments/attachment-store.ts';
import { plainFileName, safeFileName } from './attachments/safe-file-name.ts';
import type { BackgroundWork } from './background-work.ts';
import { advanceDeliveryStatus, trimEventIds } from './delivery/delivery-status.ts';
import { ourEmailMessageId, type ReplyAddresses } from './delivery/email-thread.ts';
import { AppError } from './errors.ts';
import { appendMessage } from './timeline/append-message.ts';
import { recordAddressConsent } from './timeline/identity/related-contacts.ts';
import { ingestInbound } from './timeline/ingest/ingest-inbound.ts';
import { attachIdentity, markIdentityUndeliverable } from './timeline/ingest/resolve-identity.ts';
import { toConversationRecord, toMessageRecord } from './timeline/records.ts';
import type { TimelineContext } from './timeline/timeline-context.ts';

/** How many provider event ids a message remembers (SendGrid re-posts whole batches; a message sees a handful of events). */
export const APPLIED_EVENT_IDS_KEPT = 50;

export interface ChannelPortsOptions {
  replyAddresses: ReplyAddresses;
  background: BackgroundWork;
  /** The hub's own loopback address once it listens (sandbox webhooks are posted there). */
  selfUrl(): string | null;
  /** The sending numbers' reputation (server/delivery/number-health.ts): told of outcomes and STOPs per clinic number. */
  numbers?: NumberEvents;
}

export interface NumberEvents {
  /** A clinic number of the hub's (sending or inbound-only). */
  isClinicNumber(number: string): boolean;
  outcome(number: string, status: 'delivered' | 'undelivered' | 'failed', errorCode?: string): Promise<void>;
  optOut(number: string): Promise<void>;
}

export class ChannelPorts implements HubPorts {
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly files: HubPorts['files'];

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: ChannelPortsOptions,
  ) {
    this.files = {
      maxBytes: MAX_STORED_ATTACHMENT_BYTES,
      accepts: (contentType) => ACCEPTED_ATTACHMENT_TYPES.has(canonicalType(contentType)),
      canonicalType,
      displayName: plainFileName,
      store: (file) => this.storeFile(file),
    };
  }

  get logger(): HubPorts['logger'] {
    return this.ctx().logger;
  }

  now(): Date {
    return this.ctx().clock();
  }

  async ingest(message: NormalizedInbound): Promise<IngestReceipt> {
    const stored = await ingestInbound(this.ctx(), message);
    return {
      patientId: stored.patientId,
      conversationId: stored.conversation.id,
      messageId: stored.message.id,
      senderIdentityId: stored.message.sender?.identityId ?? null,
      duplicate: stored.duplicate,
    };
  }

  async recordAnswer(to: IngestReceipt, answer: { body: string; providerKey: string; reason: string }): Promise<void> {
    const ctx = this.ctx();
    const message = await ctx.models.Message.findById(to.messageId, { conversationId: 1, channel: 1 }).lean();
    const conversation = message ? await ctx.models.Conversation.findById(message.conversationId).lean() : null;
    if (!message || !conversation) return;
    const appended = await appendMessage(ctx, conversation, {
      direction: 'outbound', channel: message.channel, body: answer.body, author: { type: 'system', agentId: null },
      providerKey: answer.providerKey, channelReason: answer.reason, deliveryStatus: 'sent',
    });
    if (!appended.duplicate) ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), toConversationRecord(appended.conversation, ctx.cipher));
  }

  async applyDelivery(update: DeliveryUpdate): Promise<DeliveryReceipt> {
    const ctx = this.ctx();
    const filter = 'id' in update.message ? { _id: update.message.id } : { providerMessageId: update.message.providerMessageId };
    const message = await ctx.models.Message.findOne(filter, { patientId: 1, recipientIdentityId: 1, channel: 1, direction: 1 }).lean();
    if (!message || message.channel !== update.channel || message.direction !== 'outbound') return { known: false, duplicate: false, applied: false };
    const known = { known: true, patientId: message.patientId, recipientIdentityId: message.recipientIdentityId ?? null };
    const duplicate = { ...known, duplicate: true, applied: false };
    let applied = !update.status;
    if (!update.status && update.eventId && !(await this.firstTimeSeen(message._id, update.eventId))) return duplicate;
    if (update.status) {
      const failed = update.status === 'failed' || update.status === 'undelivered';
      // The usual callback (new, and forward) is one write: the status with its event id. Only when that writes
      // nothing is the event id looked at alone, to tell a re-post (duplicate) from a late, backward status.
      const updated = await advanceDeliveryStatus(ctx, message._id, update.status, {
        ...(update.failure?.providerCode ? { errorCode: update.failure.providerCode } : {}),
        ...(failed && update.failure ? { error: storedFailure(update.failure) } : {}),
      }, update.eventId ? { id: update.eventId, keep: APPLIED_EVENT_IDS_KEPT } : undefined);
      if (!updated && update.eventId && !(await this.firstTimeSeen(message._id, update.eventId))) return duplicate;
      applied = updated !== null;
      // Counted once per message and terminal status: only the callback that moved it there counts.
      if (updated?.fromNumber && update.channel === 'sms' && (update.status === 'delivered' || failed)) {
        await this.countForNumber(() => this.options.numbers?.outcome(updated.fromNumber!, update.status as 'delivered' | 'undelivered' | 'failed', update.failure?.providerCode));
      }
    }
    if (applied && update.recipientUndeliverable && message.recipientIdentityId) await markIdentityUndeliverable(ctx, message.recipientIdentityId, update.recipientUndeliverable);
    return { ...known, duplicate: false, applied };
  }

  /** Remembers a provider event id on its message; false when it was applied before (a re-posted batch). */
  private async firstTimeSeen(messageId: string, eventId: string): Promise<boolean> {
    const ctx = this.ctx();
    return ctx.locks.run(`message:${messageId}`, async () => {
      // One conditional update: of two nodes applying the same event, only one matches.
      const updated = await ctx.models.Message.findOneAndUpdate(
        { _id: messageId, 'delivery.eventIds': { $ne: eventId } },
        { $push: { 'delivery.eventIds': { $each: [eventId], $slice: -APPLIED_EVENT_IDS_KEPT } } },
        { returnDocument: 'after', lean: true },
      );
      if (!updated) return false;
      await trimEventIds(ctx, updated, APPLIED_EVENT_IDS_KEPT);
      return true;
    });
  }

  async recordConsent(change: ConsentChange): Promise<void> {
    await recordAddressConsent(this.ctx(), change.patientId, change.identityId, change.channel, change.status, change.source);
    const on = change.receivedOn;
    if (on && change.channel === 'sms' && change.status === 'opted_out' && this.options.numbers?.isClinicNumber(on)) {
      await this.countForNumber(() => this.options.numbers?.optOut(on));
    }
  }

  /** A number's figures are bookkeeping: their failure is logged, never the provider's problem (the event is applied). */
  private async countForNumber(work: () => Promise<void> | undefined): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.ctx().logger.error({ err: error }, 'number reputation: counting an event failed');
    }
  }

  async findThread(reference: { recipients: string[]; messageIds: string[] }): Promise<{ patientId: string } | null> {
    const { models } = this.ctx();
    const { replyAddresses } = this.options;
    for (const recipient of reference.recipients.slice(0, 50)) {
      const conversationId = replyAddresses.conversationOf(recipient);
      const conversation = conversationId ? await models.Conversation.findById(conversationId, { patientId: 1 }).lean() : null;
      if (conversation) return { patientId: conversation.patientId };
    }
    // Only ids the hub itself put on an email it sent count.
    for (const header of reference.messageIds.slice(0, 5)) {
      const ours = ourEmailMessageId(header, replyAddresses.domain);
      const message = ours ? await models.Message.findOne({ emailMessageId: ours, direction: 'outbound' }, { patientId: 1 }).lean() : null;
      if (message) return { patientId: message.patientId };
    }
    return null;
  }

  async linkThreadedSender(patientId: string, from: NormalizedInbound['from']): Promise<void> {
    await attachIdentity(this.ctx(), patientId, from, { evidence: 'thread_reply' }).catch((error: unknown) => {
      // That address is another patient's: it writes there, and stays theirs.
      if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
    });
  }

  async setSubjectIfNone(conversationId: string, subject: string): Promise<void> {
    await this.ctx().models.Conversation.updateOne({ _id: conversationId, subject: { $in: [null, ''] } }, { $set: { subject } });
  }

  async postWebhook(path: string, request: { headers: Record<string, string>; body: string }): Promise<void> {
    const base = this.options.selfUrl();
    if (!base) throw new Error('the hub is not listening yet: a sandbox webhook has nowhere to go');
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`the hub answered its own sandbox webhook ${path} with HTTP ${res.status}`);
  }

  later(delayMs: number, what: string, task: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.options.background.start(what, task);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Drops work scheduled for later (the hub is closing). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async storeFile(file: { name: string; declaredType: string; data: Buffer }): Promise<StoredFile> {
    const name = plainFileName(file.name) || 'attachment';
    const sniffed = await sniffAttachment(file.data, file.declaredType);
    if (!sniffed.accepted) return { ok: false, name, contentType: canonicalType(file.declaredType), why: sniffed.why };
    const ref = await storeAttachment(this.ctx(), file.data, sniffed.contentType);
    return { ok: true, attachment: { name: safeFileName(name, sniffed.extension), contentType: sniffed.contentType, size: file.data.length, ref } };
  }
}

/** What a message keeps of a provider's failure: what agents read, and the next step. */
function storedFailure(failure: NonNullable<DeliveryUpdate['failure']>) {
  return { code: failure.code, message: failure.message, retryable: failure.retryable, ...(failure.suggestion ? { suggestion: failure.suggestion } : {}) };
}
