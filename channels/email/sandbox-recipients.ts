/**
 * Sandbox addresses that fail the way real mailboxes do, so bounce and drop
 * flows can be tried in the inbox and tested without SendGrid. Any other
 * address gets no events (its mail stays "sent", as with an Event Webhook
 * that is not set up). example.com is reserved for documentation: nothing
 * could ever be sent there.
 */
export type SandboxEmailBehaviour =
  | { kind: 'quiet' }
  | { kind: 'delivered' }
  | { kind: 'bounce'; type: 'bounce' | 'blocked'; classification: string; status: string }
  | { kind: 'dropped'; reason: string }
  | { kind: 'slow' }
  | { kind: 'unavailable' };

export const SANDBOX_EMAIL_RECIPIENTS: Readonly<Record<string, SandboxEmailBehaviour & { meaning: string }>> = {
  'delivered@sandbox.example.com': { kind: 'delivered', meaning: 'delivered at once' },
  'bounce@sandbox.example.com': { kind: 'bounce', type: 'bounce', classification: 'Invalid Address', status: '5.1.1', meaning: 'hard bounce: the mailbox does not exist' },
  'blocked@sandbox.example.com': { kind: 'bounce', type: 'blocked', classification: 'Reputation', status: '5.7.1', meaning: 'blocked by the receiving server' },
  'dropped@sandbox.example.com': { kind: 'dropped', reason: 'Bounced Address', meaning: 'dropped: the address bounced before' },
  'slow@sandbox.example.com': { kind: 'slow', meaning: 'processed at once, delivered only after the sandbox delay' },
  'unavailable@sandbox.example.com': { kind: 'unavailable', meaning: 'SendGrid answers 503 on every try (retried, then failed)' },
};

export function sandboxEmailBehaviour(to: string): SandboxEmailBehaviour {
  return SANDBOX_EMAIL_RECIPIENTS[to.toLowerCase()] ?? { kind: 'quiet' };
}
