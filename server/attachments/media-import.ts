/**
 * Provider-hosted media (Twilio MMS) brought into the hub: fetched in the
 * background with the adapter's credentials, stored sealed like every file,
 * and the provider's copy deleted when the adapter is set to (HIPAA
 * deployments keep no PHI at the provider). The message is stored before
 * any of this, so it is never lost; the webhook never waits for a download,
 * and a file that cannot be fetched after retries is marked unavailable with
 * the reason. Imports cut short by a restart resume at start.
 */
import type { ChannelAdapter } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { MessageDoc } from '../db/documents.ts';
import { publishMessageUpdate } from '../delivery/delivery-status.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { MAX_STORED_ATTACHMENT_BYTES, storeAttachment } from './attachment-store.ts';

export interface MediaImportOptions {
  /** Tries per file before it is marked unavailable. */
  attempts: number;
  /** The first retry's wait; each next one waits four times longer (with jitter). */
  firstRetryMs: number;
}

export const DEFAULT_MEDIA_IMPORT: MediaImportOptions = { attempts: 4, firstRetryMs: 2000 };

const isImported = (ref: string) => ref.startsWith('blob:');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class MediaImport {
  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly adapters: Record<ChannelId, ChannelAdapter>,
    private readonly startWork: (what: string, work: () => Promise<void>) => void,
    private readonly options: MediaImportOptions = DEFAULT_MEDIA_IMPORT,
  ) {}

  /** Imports a message's provider-hosted files in the background. */
  schedule(messageId: string): void {
    this.startWork('media import', () => this.importMessage(messageId));
  }

  /** Messages whose import a stop cut short (their files still point at the provider). */
  async resumePending(): Promise<number> {
    const pending = await this.ctx().models.Message.find(
      { 'attachments.ref': { $regex: '^https://' }, 'attachments.unavailable': { $in: [null] } },
      { _id: 1 },
    ).limit(500).lean();
    for (const { _id } of pending) this.schedule(_id);
    return pending.length;
  }

  async importMessage(messageId: string): Promise<void> {
    const ctx = this.ctx();
    const message = await ctx.models.Message.findById(messageId).lean();
    if (!message || message.channel === 'internal') return;
    const adapter = this.adapters[message.channel as ChannelId];
    let changed = false;
    for (const [index, attachment] of message.attachments.entries()) {
      if (isImported(attachment.ref) || attachment.unavailable) continue;
      const outcome = await this.fetchWithRetries(adapter, attachment.ref);
      changed = (await this.record(message, index, attachment.ref, outcome)) || changed;
      if (outcome.ok && adapter.deleteAttachment) {
        await adapter.deleteAttachment(attachment.ref).catch((error: Error) =>
          ctx.logger.warn({ messageId, index, err: error.message }, 'the provider copy of an imported file could not be deleted; it stays at the provider'),
        );
      }
    }
    if (!changed) return;
    const updated = await ctx.models.Message.findById(messageId).lean();
    if (updated) await publishMessageUpdate(ctx, updated);
  }

  private async fetchWithRetries(adapter: ChannelAdapter, ref: string): Promise<{ ok: true; contentType: string; data: Buffer } | { ok: false; reason: string }> {
    if (!adapter.fetchAttachment) return { ok: false, reason: 'this channel cannot fetch files' };
    let reason = 'not tried';
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      const fetched = await adapter.fetchAttachment(ref).catch((): { ok: false; retryable: boolean; reason: string } => ({ ok: false, retryable: true, reason: 'the provider could not be reached' }));
      if (fetched.ok) {
        if (fetched.data.length > MAX_STORED_ATTACHMENT_BYTES) return { ok: false, reason: `it is over ${MAX_STORED_ATTACHMENT_BYTES / 1024 / 1024} MB` };
        return fetched;
      }
      reason = fetched.reason;
      if (!fetched.retryable || attempt === this.options.attempts) break;
      const wait = this.options.firstRetryMs * 4 ** (attempt - 1);
      await sleep(wait / 2 + Math.random() * (wait / 2));
    }
    return { ok: false, reason };
  }

  /** Writes the outcome on the message's attachment, if it still points at that provider copy. */
  private async record(message: MessageDoc, index: number, ref: string, outcome: { ok: true; contentType: string; data: Buffer } | { ok: false; reason: string }): Promise<boolean> {
    const ctx = this.ctx();
    const stored = outcome.ok ? await storeAttachment(ctx, outcome.data, outcome.contentType) : null;
    return ctx.locks.run(`message:${message._id}`, async () => {
      const set = stored && outcome.ok
        ? { [`attachments.${index}.ref`]: stored, [`attachments.${index}.size`]: outcome.data.length, [`attachments.${index}.contentType`]: outcome.contentType.split(';')[0]!.trim().toLowerCase() }
        : { [`attachments.${index}.unavailable`]: outcome.ok ? 'could not be stored' : outcome.reason };
      // One conditional update: of two importers (two nodes), the one that still finds the provider copy writes.
      const written = await ctx.models.Message.updateOne({ _id: message._id, [`attachments.${index}.ref`]: ref }, { $set: set });
      if (written.matchedCount !== 1) return false;
      if (!outcome.ok) ctx.logger.warn({ messageId: message._id, index, reason: outcome.reason }, 'a provider file could not be imported; marked unavailable');
      return true;
    });
  }
}
