/**
 * How an SMS body will be split and billed: GSM-7 (160 characters, 153 per
 * part when split) or UCS-2 as soon as one character is outside GSM-7
 * (70, 67 per part). Twilio refuses bodies over 1,600 characters.
 * Counting is Twilio's own open-source calculator, not ours.
 */
import { SegmentedMessage } from 'sms-segments-calculator';

export const MAX_SMS_BODY_CHARACTERS = 1600;

export interface SmsBodyFacts {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  characters: number;
  tooLong: boolean;
}

export function describeSmsBody(body: string): SmsBodyFacts {
  const message = new SegmentedMessage(body, 'auto');
  const characters = [...body].length;
  return {
    encoding: message.encodingName === 'UCS-2' ? 'UCS-2' : 'GSM-7',
    segments: message.segmentsCount,
    characters,
    tooLong: characters > MAX_SMS_BODY_CHARACTERS,
  };
}
