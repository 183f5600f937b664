import { expect } from 'chai';
import { readReminderReply } from '../../server/outreach/scheduled/reminder-replies.ts';

describe('reading a reply to a reminder (confirm, cancel, reschedule; en, es, it)', () => {
  const cases: [string, string, 'confirm' | 'cancel' | 'reschedule'][] = [
    ['en', 'C', 'confirm'],
    ['en', 'c.', 'confirm'],
    ['en', '1', 'confirm'],
    ['en', 'Yes!', 'confirm'],
    ['en', 'ok thanks', 'confirm'],
    ['en', 'I will be there, thanks', 'confirm'],
    ['en', 'X', 'cancel'],
    ['en', 'cancel please', 'cancel'],
    ['en', 'Can’t make it', 'cancel'],
    ['en', 'R', 'reschedule'],
    ['en', 'I need to reschedule', 'reschedule'],
    ['es', 'Sí', 'confirm'],
    ['es', 'confirmo, gracias', 'confirm'],
    ['es', 'no puedo', 'cancel'],
    ['es', 'Hola, no puedo ir', 'cancel'],
    ['es', 'No puedo, lo siento', 'cancel'],
    ['it', 'non posso venire, mi dispiace', 'cancel'],
    ['es', 'otro día', 'reschedule'],
    ['it', 'sì grazie', 'confirm'],
    ['it', 'ci sarò', 'confirm'],
    ['it', 'Annulla', 'cancel'],
    ['it', 'non posso venire', 'cancel'],
    ['it', 'spostare', 'reschedule'],
    ['it', 'un altro giorno', 'reschedule'],
  ];
  for (const [language, text, reading] of cases) {
    it(`${language}: "${text}" → ${reading}`, () => expect(readReminderReply(text)).to.equal(reading));
  }

  const unclear = [
    'What time is it again?',
    'yes no',
    'Yes but I have chest pain since this morning',
    'thank you',
    '¿Puedo cambiar la cita a la tarde del jueves?',
    'ho la febbre, devo venire lo stesso?',
    '',
    '12',
  ];
  for (const text of unclear) {
    it(`leaves "${text}" to an agent (null)`, () => expect(readReminderReply(text)).to.equal(null));
  }
});
