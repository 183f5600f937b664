/**
 * Web chat visitors: starting a chat (the pre-chat form, or a portal's
 * identity hash), coming back with a visitor token, the session the widget
 * is shown, and ending it. A visitor is a `web` identity; until it is linked
 * by proof it points at a patient of its own that holds only what was written
 * in the widget, so typing someone's phone number into the form shows nothing
 * of theirs: the number is kept as an unverified claim, never as an identity.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IdentityDoc, PatientDoc } from '../db/documents.ts';
import { AppError } from '../errors.ts';
import { recordConsent } from '../timeline/consent.ts';
import { normalizeEmail, normalizePhone } from '../timeline/identity/normalize-identity.ts';
import { identityKey, resolveIdentity } from '../timeline/ingest/resolve-identity.ts';
import type { AbuseLimits } from './abuse-limits.ts';
import { suggestSamePerson } from '../timeline/identity/identity-suggestions.ts';
import { currentPatientFor } from '../timeline/link/merge-patients.ts';
import { linkVisitor } from '../timeline/link/link-visitor.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import type { WidgetLanguage, WidgetSession, WidgetVisitorRequest } from '../realtime/widget-events.ts';
import { consentWording } from './consent-wording.ts';
import { VisitorTokens } from './visitor-tokens.ts';

export interface Visitor {
  visitorId: string;
  identity: IdentityDoc;
  patient: PatientDoc;
}

/** How far ahead of the hub a portal server's clock may be. */
const PORTAL_CLOCK_SKEW_SECONDS = 300;

export class WidgetVisitors {
  constructor(
    private readonly ctx: TimelineContext,
    readonly tokens: VisitorTokens,
    private readonly options: { identitySecret: string; clinicName: string; portalProofMaxAgeSeconds: number },
    private readonly limits: AbuseLimits,
  ) {}

  /** Starts a chat: a new visitor with its own patient (or, with a valid portal hash, the portal's patient). */
  async create(input: WidgetVisitorRequest, ip: string): Promise<{ token: string; session: WidgetSession }> {
    const { ctx } = this;
    await this.limits.newChat(ip);
    const language: WidgetLanguage = input.language ?? 'en';
    const portalId = input.portal ? this.checkPortalHash(input.portal) : null;
    const name = input.name.trim();
    if (!name && !portalId) throw new AppError('INVALID_INPUT', 'name: tell us your name so the care team knows who they are talking to', { field: 'name' });
    const phone = input.phone?.trim() ? normalizePhone(input.phone, ctx.settings.defaultPhoneRegion) : null;
    const email = input.email?.trim() ? normalizeEmail(input.email) : null;
    if (input.consent?.sms && !phone) throw new AppError('INVALID_INPUT', 'phone: give the number you agree to receive texts at', { field: 'phone' });
    if (input.consent?.email && !email) throw new AppError('INVALID_INPUT', 'email: give the address you agree to receive email at', { field: 'email' });
    const department = input.department ? await ctx.models.Team.findById(input.department, { department: 1 }).lean() : null;
    if (input.department && !department?.department) throw new AppError('INVALID_INPUT', 'department: not one of the departments offered', { field: 'department' });

    const visitorId = VisitorTokens.newVisitorId();
    const { identity, patient } = await resolveIdentity(ctx, { kind: 'web', value: visitorId }, { evidence: 'visitor_token', displayName: name || undefined });
    const now = ctx.clock();
    if (department) await ctx.models.Identity.updateOne({ _id: identity._id }, { $set: { routeToTeamId: department._id } });
    const claims = [
      ...(phone ? [{ kind: 'phone' as const, valueEnc: ctx.cipher.encrypt(phone), at: now }] : []),
      ...(email ? [{ kind: 'email' as const, valueEnc: ctx.cipher.encrypt(email), at: now }] : []),
    ];
    await ctx.locks.run(`patient:${patient._id}`, () =>
      ctx.models.Patient.updateOne({ _id: patient._id }, { $set: { claimedContacts: claims, 'preferences.language': language, updatedAt: now } }),
    );
    const wording = consentWording(this.options.clinicName)[language];
    if (input.consent?.sms) await recordConsent(ctx, patient._id, 'sms', 'opted_in', 'widget_prechat', wording.sms);
    if (input.consent?.email) await recordConsent(ctx, patient._id, 'email', 'opted_in', 'widget_prechat', wording.email);
    if (portalId) await linkVisitor(ctx, identity._id, { kind: 'portal', value: portalId }, 'portal');
    // A typed number or address that is another patient's: agents may want to look (never linked by typing).
    for (const typed of [phone && { kind: 'phone' as const, value: phone }, email && { kind: 'email' as const, value: email }]) {
      if (!typed) continue;
      const known = await ctx.models.Identity.findById(identityKey(ctx, typed).id, { patientId: 1 }).lean();
      if (known && known.patientId !== patient._id) {
        await suggestSamePerson(ctx, { patientIds: [patient._id, known.patientId], identityId: known._id, evidence: 'typed_known_contact' });
      }
    }

    await ctx.audit.record({ action: 'widget.visitor.create', via: 'widget', ip, patientId: patient._id, details: { portal: Boolean(portalId) } });
    const visitor = await this.load(visitorId);
    const token = this.tokens.issue(visitorId);
    return { token, session: await this.session(visitor, token) };
  }

  /** The visitor behind a token; refuses forged, expired and ended ones. */
  async authenticate(token: string): Promise<Visitor> {
    const { visitorId, issuedAt } = this.tokens.verify(token);
    const visitor = await this.load(visitorId);
    const revokedAt = visitor.identity.tokensRevokedAt;
    if (revokedAt && issuedAt.getTime() <= new Date(revokedAt).getTime()) {
      throw new AppError('SESSION_ENDED', 'This chat was ended; start a new chat');
    }
    return visitor;
  }

  async load(visitorId: string): Promise<Visitor> {
    const { id } = identityKey(this.ctx, { kind: 'web', value: visitorId });
    const identity = await this.ctx.models.Identity.findById(id).lean();
    if (!identity) throw new AppError('UNAUTHENTICATED', 'This chat session is not known here; start a new chat');
    const patient = await currentPatientFor(this.ctx, identity.patientId);
    return { visitorId, identity, patient };
  }

  async session(visitor: Visitor, token: string): Promise<WidgetSession> {
    const { ctx } = this;
    const conversation = visitor.patient.latestConversationId
      ? await ctx.models.Conversation.findById(visitor.patient.latestConversationId, { lastSeq: 1 }).lean()
      : null;
    const linkedBy = visitor.identity.linkedBy ?? null;
    const claimed = (kind: 'phone' | 'email') => {
      const claim = [...(visitor.patient.claimedContacts ?? [])].reverse().find((c) => c.kind === kind);
      return claim && !linkedBy ? ctx.cipher.decrypt(claim.valueEnc) : null;
    };
    return {
      visitorId: visitor.visitorId,
      token,
      linked: linkedBy !== null,
      linkedBy,
      conversationId: conversation?._id ?? null,
      lastSeq: conversation?.lastSeq ?? 0,
      name: visitor.patient.nameEnc ? ctx.cipher.decrypt(visitor.patient.nameEnc) : null,
      prefill: { phone: claimed('phone'), email: claimed('email') },
    };
  }

  /** "End chat": tokens issued until now stop working, on every device that had them. */
  async end(visitor: Visitor, ip: string): Promise<void> {
    await this.ctx.models.Identity.updateOne({ _id: visitor.identity._id }, { $set: { tokensRevokedAt: this.ctx.clock() } });
    await this.ctx.audit.record({ action: 'widget.session.end', via: 'widget', ip, patientId: visitor.patient._id });
  }

  /**
   * The portal's proof: HMAC-SHA256 of `<patientId>.<issuedAt>` with WIDGET_IDENTITY_SECRET, hex, made by
   * the portal's server when it renders the page. It expires (PORTAL_PROOF_MAX_AGE_MINUTES), so a proof
   * copied from a page, a log or a cache does not open the patient's thread later.
   */
  private checkPortalHash(portal: { patientId: string; issuedAt: number; hash: string }): string {
    const expected = createHmac('sha256', this.options.identitySecret).update(`${portal.patientId}.${portal.issuedAt}`).digest();
    const given = Buffer.from(portal.hash, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('FORBIDDEN', 'portal.hash: the identity hash does not match this patient id and time (HMAC-SHA256 of "<id>.<issuedAt>" with WIDGET_IDENTITY_SECRET, hex)');
    }
    const now = Math.floor(this.ctx.clock().getTime() / 1000);
    if (portal.issuedAt > now + PORTAL_CLOCK_SKEW_SECONDS) {
      throw new AppError('FORBIDDEN', 'portal.issuedAt: the proof is dated in the future; check the portal server’s clock');
    }
    if (now - portal.issuedAt > this.options.portalProofMaxAgeSeconds) {
      throw new AppError('FORBIDDEN', 'portal.issuedAt: the proof expired; the portal page must be reloaded to make a new one');
    }
    return portal.patientId;
  }
}
