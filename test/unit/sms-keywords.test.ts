import { expect } from 'chai';
import { classifySmsKeyword, looksLikeOptOutRequest } from '../../channels/sms/keywords.ts';

describe('classifySmsKeyword', () => {
  it('takes the keyword alone, ignoring case and surrounding spaces or punctuation', () => {
    expect(classifySmsKeyword('STOP')).to.equal('opt_out');
    expect(classifySmsKeyword('stop.')).to.equal('opt_out');
    expect(classifySmsKeyword(' Stop ')).to.equal('opt_out');
    expect(classifySmsKeyword('STOP!!')).to.equal('opt_out');
    expect(classifySmsKeyword('unsubscribe')).to.equal('opt_out');
    expect(classifySmsKeyword('start')).to.equal('opt_in');
    expect(classifySmsKeyword('Help?')).to.equal('help');
  });

  it('ignores a keyword with other words', () => {
    expect(classifySmsKeyword('STOP please')).to.equal(null);
    expect(classifySmsKeyword('please stop texting me')).to.equal(null);
  });

  it('lets OptOutType win over the body', () => {
    expect(classifySmsKeyword('hello', 'STOP')).to.equal('opt_out');
    expect(classifySmsKeyword('stop', 'START')).to.equal('opt_in');
    expect(classifySmsKeyword('whatever', 'help')).to.equal('help');
  });
});

describe('looksLikeOptOutRequest', () => {
  const mustMatch = [
    'stop please',
    'please stop',
    'Please STOP!',
    'STOP!! 🛑',
    'stop stop stop',
    '-STOP-',
    'stop texting me',
    'Can you please stop texting me?',
    'stop messaging me',
    'no more texts',
    'No more messages please.',
    "don't text me anymore",
    'Don’t text me again',
    'do not text me',
    'unsubscribe me',
    'How do I unsubscribe?',
    'remove me from your list',
    'Please take me off this list',
    'opt me out',
    'I want to opt out',
    'quit sending me messages',
    'stop sending me these texts',
    'stop the texts',
    "I don't want these messages anymore",
    'No me envíen más mensajes',
    'dejen de escribirme',
    'Ya no quiero recibir más mensajes',
    'quiero darme de baja',
    'baja',
    'BAJA por favor',
    'parar',
    'no más mensajes por favor',
    'sáquenme de la lista',
    'Non mandatemi più messaggi',
    'smettete di scrivermi!',
    'non voglio più ricevere messaggi',
    'cancellami',
    'disiscrivimi per favore',
    'toglietemi dalla lista',
    'basta messaggi',
  ];
  const mustNotMatch = [
    'can I stop taking my medication?',
    'the bus stop near the clinic',
    'I want to stop smoking',
    "my pain won't stop",
    "please don't stop my prescription",
    'stop by the pharmacy',
    'non riesco a smettere di tossire',
    'no puedo parar de toser',
    'cancel my appointment',
    'cancel please',
    'STOP',
    'stop.',
    ' Stop ',
    'STOP!!',
    'UNSUBSCRIBE',
    'start',
    'help',
    '',
    'When should I stop the antibiotics?',
    "I didn't mean to unsubscribe",
    'why did you stop texting me?',
    "please don't stop the texts",
    "I don't want the texts to stop",
    "don't text me before 9am",
    'text me the address please',
    'take me off the waiting list',
    'please stop sending my refills to the old pharmacy',
    'tengo la presión baja',
    'necesito darme de baja médica',
    'me dieron de baja del hospital',
    'no quiero darme de baja',
    'no me envíen la receta a la farmacia equivocada',
    'cancellami l’appuntamento di domani',
    'non smette di fare male',
    'perché avete smesso di scrivermi?',
    'The doctor told me to stop the ibuprofen, can I take acetaminophen tonight instead?',
    'I know I said stop texting me last week but now I would like the reminders back please',
  ];

  for (const body of mustMatch) {
    it(`flags ${JSON.stringify(body)}`, () => {
      expect(looksLikeOptOutRequest(body)).to.equal(true);
    });
  }
  for (const body of mustNotMatch) {
    it(`does not flag ${JSON.stringify(body)}`, () => {
      expect(looksLikeOptOutRequest(body)).to.equal(false);
    });
  }

  it('returns false for every exact keyword, which classifySmsKeyword handles', () => {
    for (const body of ['STOP', 'stop.', ' Stop ', 'STOP!!', 'Unsubscribe', 'quit', 'START', 'HELP']) {
      expect(classifySmsKeyword(body), body).to.not.equal(null);
      expect(looksLikeOptOutRequest(body), body).to.equal(false);
    }
  });

  it('ignores messages over 12 words even when they ask to stop', () => {
    expect(looksLikeOptOutRequest('please stop texting me, I really do not want these at all')).to.equal(true);
    expect(looksLikeOptOutRequest('please stop texting me, I really do not want these at all anymore thanks')).to.equal(false);
  });
});
