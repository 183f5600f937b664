/**
 * A patient's related contacts: a guardian writing for a child, a caregiver.
 * They are identities of the patient marked with their relation, their own
 * name and their own consent; never the patient: `auto` never picks them, they
 * never link a web visitor, and a reply reaches one only when the agent
 * chooses that contact in the channel picker and the contact consented.
 * STOP from a contact's number opts out the contact, not the patient.
 */
import type { ChannelId } from '../../../channels/channel-id.ts';
import type { ConsentStatus, IdentityDoc, RelatedContactRelation } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { recordConsent } from '../consent.ts';
import { attachIdentity } from '../ingest/resolve-identity.ts';
import type { TimelineContext } from '../timeline-context.ts';

export interface NewRelatedContact {
  kind: 'phone' | 'email';
  value: string;
  relation: RelatedContactRelation;
  name: string;
  /** The contact agreed to receive messages on this address (the agent asked them). */
  consent: boolean;
}

export async function addRelatedContact(ctx: TimelineContext, patientId: string, input: NewRelatedContact): Promise<IdentityDoc> {
  const identity = await attachIdentity(ctx, patientId, { kind: input.kind, value: input.value }, { evidence: 'agent_entered' });
  if (identity.relation === undefined || identity.relation === null) {
    // An address that already speaks for the patient stays the patient's.
    if (identity.trust === 'verified' && identity.trustEvidence !== 'agent_entered') {
      throw new AppError('CONFLICT', `That ${input.kind} is the patient’s own verified address, not a related contact’s`, { field: 'value' });
    }
  }
  const at = ctx.clock();
  const updated = await ctx.models.Identity.findOneAndUpdate(
    { _id: identity._id, patientId },
    {
      $set: {
        relation: input.relation,
        contactNameEnc: ctx.cipher.encrypt(input.name),
        contactConsent: input.consent ? { status: 'opted_in', at, source: 'agent_recorded' } : { status: 'unknown', at, source: 'agent_recorded' },
      },
    },
    { returnDocument: 'after', lean: true },
  );
  if (!updated) throw new AppError('CONFLICT', 'The address changed meanwhile; reload the patient');
  return updated;
}

/**
 * A consent change that came from an address (STOP/START from a number, a
 * carrier's opt-out for it): a related contact's own consent when the address
 * is a contact's, the patient's otherwise.
 */
export async function recordAddressConsent(
  ctx: TimelineContext,
  patientId: string,
  identityId: string | null | undefined,
  channel: ChannelId,
  status: Exclude<ConsentStatus, 'unknown'>,
  source: string,
): Promise<void> {
  const identity = identityId ? await ctx.models.Identity.findById(identityId).lean() : null;
  if (!identity?.relation) {
    await recordConsent(ctx, patientId, channel, status, source);
    return;
  }
  await ctx.models.Identity.updateOne({ _id: identity._id }, { $set: { contactConsent: { status, at: ctx.clock(), source } } });
  await ctx.audit.record({ action: 'patient.update', via: 'system', patientId, details: { contactConsent: `${channel}:${status}`, identityId: identity._id, source } });
}
