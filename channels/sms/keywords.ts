/**
 * Carrier/CTIA consent keywords. Only a message that is the keyword alone
 * counts ("STOP please" does not opt out); case and surrounding spaces or
 * punctuation are ignored. Twilio's Advanced Opt-Out also labels keyword
 * messages with OptOutType, which wins when present.
 * https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
 */
export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES']);
const HELP = new Set(['HELP', 'INFO']);

export function classifySmsKeyword(body: string, optOutType?: string): SmsKeyword | null {
  const labelled = optOutType?.trim().toUpperCase();
  if (labelled === 'STOP') return 'opt_out';
  if (labelled === 'START') return 'opt_in';
  if (labelled === 'HELP') return 'help';
  const word = body.trim().replace(/^[\s.!?,;:'"]+|[\s.!?,;:'"]+$/g, '').toUpperCase();
  if (OPT_OUT.has(word)) return 'opt_out';
  if (OPT_IN.has(word)) return 'opt_in';
  if (HELP.has(word)) return 'help';
  return null;
}
