/**
 * Sandbox numbers that fail the way real ones do (like Twilio's magic test
 * numbers, but on the fictional +1 555-555-01xx range the hub accepts), so the
 * failure flows can be tried in the inbox and tested without Twilio. Any other
 * number is delivered.
 */
export type SandboxSmsBehaviour =
  | { kind: 'delivered' }
  | { kind: 'refused'; code: number; status: number }
  | { kind: 'undelivered'; errorCode: string }
  | { kind: 'slow' }
  | { kind: 'silent' }
  | { kind: 'unavailable' };

export const SANDBOX_SMS_RECIPIENTS: Readonly<Record<string, SandboxSmsBehaviour & { meaning: string }>> = {
  '+15555550171': { kind: 'refused', code: 21610, status: 400, meaning: 'refused at send: the number replied STOP (21610)' },
  '+15555550172': { kind: 'undelivered', errorCode: '30007', meaning: 'undelivered: filtered by the carrier (30007)' },
  '+15555550173': { kind: 'undelivered', errorCode: '30006', meaning: 'undelivered: a landline (30006)' },
  '+15555550174': { kind: 'undelivered', errorCode: '30003', meaning: 'undelivered: phone off or out of signal (30003)' },
  '+15555550175': { kind: 'undelivered', errorCode: '30005', meaning: 'undelivered: the number does not exist (30005)' },
  '+15555550176': { kind: 'slow', meaning: 'sent at once, delivered only after the sandbox delay' },
  '+15555550177': { kind: 'unavailable', meaning: 'Twilio answers 503 on every try (retried, then failed)' },
  '+15555550178': { kind: 'silent', meaning: 'sent, and no delivery report ever comes (a carrier that sends none)' },
};

export function sandboxSmsBehaviour(to: string): SandboxSmsBehaviour {
  return SANDBOX_SMS_RECIPIENTS[to] ?? { kind: 'delivered' };
}
