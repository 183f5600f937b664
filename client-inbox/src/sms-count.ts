/**
 * Counts an SMS as carriers will split it, instantly while the agent types
 * (the hub's POST /api/sms/segments answer replaces it a moment later).
 * GSM-7: 160 characters, 153 per part when split, extension characters count
 * twice; anything else is UCS-2: 70, 67 per part, in UTF-16 units.
 */
import type { SmsCount } from './types.ts';

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const MAX_CHARACTERS = 1600;

export function countSms(body: string): SmsCount {
  let gsmUnits = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM_BASIC.includes(ch)) gsmUnits += 1;
    else if (GSM_EXTENDED.includes(ch)) gsmUnits += 2;
    else {
      gsm = false;
      break;
    }
  }
  const characters = [...body].length;
  if (gsm) {
    const segments = gsmUnits === 0 ? 0 : gsmUnits <= 160 ? 1 : Math.ceil(gsmUnits / 153);
    return { encoding: 'GSM-7', segments, characters, tooLong: characters > MAX_CHARACTERS };
  }
  const units = body.length;
  const segments = units <= 70 ? 1 : Math.ceil(units / 67);
  return { encoding: 'UCS-2', segments, characters, tooLong: characters > MAX_CHARACTERS };
}
