/**
 * What anyone on the internet can make the hub do has a ceiling: new web
 * chats, widget messages and uploads per IP and in all, one-time codes per
 * IP and in all (per chat and per address are in verification-codes.ts), and
 * texts only to the countries the clinic serves (SMS pumping: bots request
 * codes to premium numbers abroad and the clinic pays per text). Over a
 * ceiling: 429 with Retry-After. IPs are kept as keyed hashes, not in clear.
 */
import { createHmac } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { AbuseLimitSettings } from '../config.ts';
import { consumeWindowCount } from '../db/rate-limits.ts';
import { AppError } from '../errors.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

const HOUR = 3600_000;
const MINUTE = 60_000;

export class AbuseLimits {
  constructor(
    private readonly ctx: TimelineContext,
    readonly settings: AbuseLimitSettings,
    private readonly ipKeySecret: string,
  ) {}

  async newChat(ip: string): Promise<void> {
    await this.count(`chats:ip:${this.ipKey(ip)}`, this.settings.newChatsPerIpPerHour, HOUR, 'new chats from this network');
    await this.count('chats:all', this.settings.newChatsPerHour, HOUR, 'new chats right now');
  }

  async message(ip: string, chatId: string): Promise<void> {
    await this.count(`messages:chat:${chatId}`, this.settings.messagesPerChatPerMinute, MINUTE, 'messages from this chat');
    await this.count(`messages:ip:${this.ipKey(ip)}`, this.settings.messagesPerIpPerMinute, MINUTE, 'messages from this network');
  }

  async upload(ip: string): Promise<void> {
    await this.count(`uploads:ip:${this.ipKey(ip)}`, this.settings.uploadsPerIpPerHour, HOUR, 'files from this network');
  }

  /** Before a one-time code is sent: where to (texts only to the clinic's countries), then how many. */
  async code(ip: string, channel: 'sms' | 'email', address: string): Promise<void> {
    if (channel === 'sms') {
      const country = parsePhoneNumberFromString(address)?.country;
      if (!country || !this.settings.smsCountries.includes(country)) {
        throw new AppError('INVALID_INPUT', `address: we can only text numbers in ${this.settings.smsCountries.join(', ')}; continue by email instead`, { field: 'address' });
      }
    }
    await this.count(`codes:ip:${this.ipKey(ip)}`, this.settings.codesPerIpPerHour, HOUR, 'codes requested from this network');
    await this.count('codes:all', this.settings.codesPerHour, HOUR, 'codes requested right now');
  }

  private count(key: string, limit: number, windowMs: number, what: string): Promise<void> {
    return consumeWindowCount(this.ctx.models, `abuse:${key}`, { limit, windowMs, what }, this.ctx.clock());
  }

  private ipKey(ip: string): string {
    return createHmac('sha256', this.ipKeySecret).update(`ip:${ip}`).digest('base64url').slice(0, 22);
  }
}
