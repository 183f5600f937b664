/**
 * Who "is" a patient is decided by proof, never by who manages to write into
 * a thread. Every identity (phone, email, web visitor, portal id) records
 * how it was established; only a verified one may receive replies chosen by
 * `auto`, receive PHI, link a web visitor or cause a merge. Nothing upgrades
 * an asserted or threaded identity on its own: only an agent's explicit,
 * audited promotion does.
 *
 * | evidence                                   | trust    |
 * |--------------------------------------------|----------|
 * | the patient's own inbound SMS (new number) | verified |
 * | an authenticated email (new address)       | verified |
 * | a one-time code to a new address           | verified (for the visitor who proved it) |
 * | a one-time code to an address that is already a verified identity of a patient | links the visitor to that patient |
 * | the portal's signed identity               | verified |
 * | the widget's own visitor token             | verified (the visitor's own thread only) |
 * | an agent's promotion, with a reason        | verified |
 * | typed in a form, entered by an agent       | asserted |
 * | an email whose sender failed SPF/DKIM      | asserted |
 * | a reply into a thread (e.g. a CC'd relative) | threaded |
 */
import type { IdentityDoc } from '../../db/documents.ts';

export type IdentityTrust = 'verified' | 'asserted' | 'threaded';

export type TrustEvidence =
  | 'inbound_sms'
  | 'authenticated_email'
  | 'code_to_new_address'
  | 'portal'
  | 'visitor_token'
  | 'agent_promotion'
  | 'unauthenticated_email'
  | 'agent_entered'
  | 'thread_reply';

const TRUST_OF: Record<TrustEvidence, IdentityTrust> = {
  inbound_sms: 'verified',
  authenticated_email: 'verified',
  code_to_new_address: 'verified',
  portal: 'verified',
  visitor_token: 'verified',
  agent_promotion: 'verified',
  unauthenticated_email: 'asserted',
  agent_entered: 'asserted',
  thread_reply: 'threaded',
};

export function trustFromEvidence(evidence: TrustEvidence): IdentityTrust {
  return TRUST_OF[evidence];
}

/** An identity's trust; documents stored before trust levels existed have only `verifiedAt`. */
export function trustOf(identity: Pick<IdentityDoc, 'trust' | 'verifiedAt'>): IdentityTrust {
  return identity.trust ?? (identity.verifiedAt ? 'verified' : 'threaded');
}

export function isVerified(identity: Pick<IdentityDoc, 'trust' | 'verifiedAt'>): boolean {
  return trustOf(identity) === 'verified';
}

/**
 * The patient's own proven address: verified, not shared by several people,
 * not a related contact (a guardian's number is the guardian's). Only these
 * get `auto` replies and PHI, link a web visitor or cause a merge.
 */
export function speaksForThePatient(identity: Pick<IdentityDoc, 'trust' | 'verifiedAt' | 'sharedAt' | 'relation'>): boolean {
  return isVerified(identity) && !identity.sharedAt && !identity.relation;
}

/** What an agent reads beside an identity or a message from it. */
export const TRUST_LABELS: Record<IdentityTrust, string> = {
  verified: 'verified',
  asserted: 'given, not verified',
  threaded: 'replied in this thread; not verified',
};
