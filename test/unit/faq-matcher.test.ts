import { expect } from 'chai';
import {
  clinicalWordIn, contentWords, createFaqMatcher, faqEntryPatchSchema, faqEntrySchema, normalizeText, type FaqEntry,
} from '../../server/routing/faq.ts';

const UPDATED = new Date('2026-03-02T10:00:00Z');

function entry(id: string, language: FaqEntry['language'], questions: string[], answer: string, extra: Partial<FaqEntry> = {}): FaqEntry {
  return { id, teamId: 'front-desk', language, questions, answer, published: true, autoAnswer: true, updatedAt: UPDATED, ...extra };
}

const ENTRIES: FaqEntry[] = [
  entry('hours', 'en', ['What are your opening hours?', 'When are you open?', 'What time do you open?'], 'Our hours are 8 to 6, Monday to Friday.'),
  entry('parking', 'en', ['Is there parking?', 'Where can I park?'], 'Free parking behind the building.'),
  entry('insurance', 'en', ['Which insurance plans do you accept?'], 'We accept most plans; bring your card.', { autoAnswer: false }),
  entry('address', 'en', ['What is your address?', 'Where is the clinic located?'], '1 Main Street, second floor.'),
  entry('portal', 'en', ['How do I reset my portal password?'], 'Use "Forgot password" on the portal.'),
  entry('horario', 'es', ['¿Cuál es el horario?', '¿A qué hora abren?'], 'Nuestro horario es de 8 a 18, de lunes a viernes.'),
  entry('estacionamiento', 'es', ['¿Dónde puedo estacionar?', '¿Hay estacionamiento?'], 'Hay estacionamiento gratuito detrás del edificio.'),
  entry('orari', 'it', ['Quali sono gli orari di apertura?', 'A che ora aprite?'], 'Siamo aperti dalle 8 alle 18, dal lunedì al venerdì.'),
  entry('parcheggio', 'it', ['Dove posso parcheggiare?', "C'è un parcheggio?"], 'Parcheggio gratuito dietro l’edificio.'),
  entry('billing-hours', 'en', ['What are your billing office hours?'], 'Billing answers 9 to 5.', { teamId: 'billing' }),
  entry('draft', 'en', ['Do you have wifi in the waiting room?'], 'Yes: CareThread-Guest.', { published: false }),
];

const matcher = createFaqMatcher(ENTRIES);
const suggested = (text: string, options: { language?: string; limit?: number; teamId?: string } = {}) =>
  matcher.suggest(text, { teamId: 'front-desk', ...options }).map((s) => s.id);
const answered = (text: string, language = 'en', teamId = 'front-desk') => matcher.answerFor(text, { teamId, language })?.id ?? null;

describe('FAQ matching: words', () => {
  it('ignores case, accents and punctuation, drops stop words in en, es and it, and stems plurals and endings', () => {
    expect(normalizeText('¿Dónde ESTÁ el Estacionamiento?!')).to.equal('donde esta el estacionamiento');
    expect(contentWords('What are your opening hours?')).to.deep.equal(['open', 'hour']);
    expect(contentWords('¿Cuáles son los horarios?')).to.deep.equal(contentWords('horario'));
    expect(contentWords('Quali sono gli orari?')).to.deep.equal(contentWords('orario'));
    expect(contentWords('the, el, il, una, de, di')).to.deep.equal([]);
  });
});

describe('FAQ matching: suggestions for agents', () => {
  it('finds an entry by any of its question variants, whatever the case, accents, punctuation and word order', () => {
    expect(suggested('HOURS OPENING')[0]).to.equal('hours');
    expect(suggested('what time do you open')[0]).to.equal('hours');
    expect(suggested('where do I park the car')[0]).to.equal('parking');
    expect(suggested('el horario, ¿cuál es?')[0]).to.equal('horario');
    expect(suggested('Donde puedo estacionar')[0]).to.equal('estacionamiento');
    expect(suggested("A che ORA aprite?")[0]).to.equal('orari');
    expect(suggested('parcheggio?')[0]).to.equal('parcheggio');
  });

  it('orders suggestions best first, with the question variant that matched and a score', () => {
    const items = matcher.suggest('where is the parking and what are your opening hours', { teamId: 'front-desk', language: 'en' });
    expect(items.map((s) => s.id).slice(0, 2)).to.have.members(['hours', 'parking']);
    for (let i = 1; i < items.length; i++) expect(items[i - 1]!.score).to.be.at.least(items[i]!.score);
    expect(items[0]!.score).to.be.within(0, 1);

    const hours = matcher.suggest('opening hours', { teamId: 'front-desk' });
    expect(hours[0]).to.deep.equal({ id: 'hours', question: 'What are your opening hours?', answer: 'Our hours are 8 to 6, Monday to Friday.', score: 1 });
    // A closer variant ranks its entry above one that shares a word.
    expect(suggested('where is the clinic located')).to.deep.equal(['address']);
  });

  it('suggests from the word still being typed', () => {
    expect(suggested('is there par')).to.have.members(['parking', 'parcheggio']);
    expect(suggested('is there par', { language: 'en' })).to.deep.equal(['parking']);
    expect(suggested('your opening hou')[0]).to.equal('hours');
    // A finished word is a whole word: "par " is not parking.
    expect(suggested('is there par ')).to.deep.equal([]);
  });

  it('keeps to the team and, when asked, the language, and cuts at the limit', () => {
    expect(suggested('billing office hours')).not.to.include('billing-hours');
    expect(suggested('billing office hours', { teamId: 'billing' })).to.deep.equal(['billing-hours']);
    expect(suggested('parking parcheggio estacionamiento')).to.have.members(['parking', 'parcheggio', 'estacionamiento']);
    expect(suggested('parking parcheggio estacionamiento', { language: 'it' })).to.deep.equal(['parcheggio']);
    expect(suggested('parking parcheggio estacionamiento', { limit: 2 })).to.have.length(2);
  });

  it('suggests nothing for common words only, unrelated text, or unpublished entries', () => {
    expect(suggested('what is the')).to.deep.equal([]);
    expect(suggested('')).to.deep.equal([]);
    expect(suggested('thank you so much, see you Tuesday')).to.deep.equal([]);
    expect(suggested('wifi in the waiting room')).to.deep.equal([]);
  });
});

describe('FAQ matching: automatic answers after hours', () => {
  it('answers a question that clearly matches a variant, in en, es and it, in any word order', () => {
    expect(answered('When are you open?')).to.equal('hours');
    expect(answered('Hi! What time do you open tomorrow?')).to.equal('hours');
    expect(answered('hours opening?')).to.equal('hours');
    expect(answered('Is there parking near the office?')).to.equal('parking');
    expect(answered('¿Cuál es su horario?', 'es')).to.equal('horario');
    expect(answered('hola, ¿a qué hora abren mañana?', 'es')).to.equal('horario');
    expect(answered('¿hay ESTACIONAMIENTO?', 'es')).to.equal('estacionamiento');
    expect(answered('Orari di apertura?', 'it')).to.equal('orari');
    expect(answered('Buongiorno, dove posso parcheggiare?', 'it')).to.equal('parcheggio');
  });

  it('answers only a strong match: most of the variant’s words, in a message mostly about it', () => {
    // Half of "opening hours": a suggestion for an agent, not an answer to a patient.
    expect(suggested('what are your hours')).to.include('hours');
    expect(answered('what are your hours')).to.equal(null);
    expect(answered('reset portal')).to.equal(null);
    expect(answered('how do I reset my portal password')).to.equal('portal');
    // The question is a small part of a message about something else.
    expect(answered('my daughter changed her phone number and address, her new one starts with 555, can you update it and open a new file')).to.equal(null);
    expect(answered('thanks!')).to.equal(null);
  });

  it('answers only in the patient’s language and for the conversation’s team', () => {
    expect(answered('¿a qué hora abren?', 'it')).to.equal(null);
    expect(answered('When are you open?', 'es')).to.equal(null);
    expect(answered('What are your billing office hours?')).to.equal(null);
    expect(answered('What are your billing office hours?', 'en', 'billing')).to.equal('billing-hours');
  });

  it('never answers with an unpublished entry or one not marked autoAnswer', () => {
    expect(answered('Do you have wifi in the waiting room?')).to.equal(null);
    expect(suggested('which insurance plans do you accept')).to.deep.equal(['insurance']);
    expect(answered('which insurance plans do you accept')).to.equal(null);
  });

  it('never answers a patient whose words are clinical, in en, es and it', () => {
    for (const [text, language] of [
      ['When are you open? I have chest pain', 'en'],
      ['what time do you open, my son has a fever', 'en'],
      ['Is there parking? I need my test results', 'en'],
      ['when are you open, I need a refill of my medication', 'en'],
      ['What time do you open? I think I am pregnant', 'en'],
      ['When are you open? This is an emergency', 'en'],
      ['¿A qué hora abren? Tengo dolor de cabeza', 'es'],
      ['¿cuál es el horario? necesito mis resultados', 'es'],
      ['¿Hay estacionamiento? Estoy embarazada', 'es'],
      ['¿a qué hora abren? tengo fiebre', 'es'],
      ['A che ora aprite? Ho la febbre', 'it'],
      ['orari di apertura? mi serve la ricetta', 'it'],
      ['Dove posso parcheggiare? Sono incinta', 'it'],
    ] as const) {
      expect(answered(text, language), text).to.equal(null);
    }
  });

  it('never answers with an entry whose own words are clinical (stored before the rule)', () => {
    const legacy = createFaqMatcher([entry('labs', 'en', ['When is the lab open?'], 'Blood draws 7 to 11.')]);
    expect(legacy.suggest('when is the lab open', { teamId: 'front-desk' }).map((s) => s.id)).to.deep.equal(['labs']);
    expect(legacy.answerFor('when is the lab open', { teamId: 'front-desk', language: 'en' })).to.equal(null);
  });
});

describe('FAQ matching: clinical words', () => {
  it('finds clinical words and stems in en, es and it, with accents and plurals', () => {
    expect(clinicalWordIn('Pains in my back')).to.equal('pains');
    expect(clinicalWordIn('Tengo DOLOR de cabeza')).to.equal('dolor');
    expect(clinicalWordIn('ho un dolore')).to.equal('dolore');
    expect(clinicalWordIn('síntomas')).to.equal('sintomas');
    expect(clinicalWordIn('my medicine')).to.equal('medicine');
    expect(clinicalWordIn('el medicamento')).to.equal('medicamento');
    expect(clinicalWordIn('il farmaco')).to.equal('farmaco');
    expect(clinicalWordIn('what dose?')).to.equal('dose');
    expect(clinicalWordIn('sangue')).to.equal('sangue');
    expect(clinicalWordIn('diagnóstico')).to.equal('diagnostico');
    expect(clinicalWordIn('What are your opening hours? Is there parking?')).to.equal(null);
    expect(clinicalWordIn('¿Dónde está la clínica? Orari di apertura')).to.equal(null);
  });
});

describe('faqEntrySchema', () => {
  const valid = { teamId: 'front-desk', language: 'en', questions: ['When are you open?'], answer: 'Our hours are 8 to 6.' };
  const problem = (schema: typeof faqEntrySchema | typeof faqEntryPatchSchema, body: unknown) => {
    const result = schema.safeParse(body);
    expect(result.success, 'expected a validation error').to.equal(false);
    const issue = result.error!.issues[0]!;
    return `${issue.path.join('.')}: ${issue.message}`;
  };

  it('takes a valid entry, trimmed, as a draft without automatic answers by default', () => {
    expect(faqEntrySchema.parse({ ...valid, questions: ['  When are you open?  '] })).to.deep.equal({ ...valid, published: false, autoAnswer: false });
  });

  it('names the field of each problem', () => {
    expect(problem(faqEntrySchema, { ...valid, teamId: '' })).to.match(/^teamId: /);
    expect(problem(faqEntrySchema, { ...valid, language: 'fr' })).to.equal('language: must be en, es or it');
    expect(problem(faqEntrySchema, { ...valid, questions: [] })).to.equal('questions: must have 1 to 20 questions');
    expect(problem(faqEntrySchema, { ...valid, questions: Array.from({ length: 21 }, (_, i) => `question ${i}`) })).to.equal('questions: must have 1 to 20 questions');
    expect(problem(faqEntrySchema, { ...valid, questions: ['When are you open?', 'hi'] })).to.equal('questions.1: must be 3 to 200 characters');
    expect(problem(faqEntrySchema, { ...valid, questions: ['x'.repeat(201)] })).to.equal('questions.0: must be 3 to 200 characters');
    expect(problem(faqEntrySchema, { ...valid, questions: ['what is it?'] })).to.match(/^questions\.0: has no words to match on/);
    expect(problem(faqEntrySchema, { ...valid, answer: '   ' })).to.equal('answer: must be 1 to 1000 characters');
    expect(problem(faqEntrySchema, { ...valid, answer: 'x'.repeat(1001) })).to.equal('answer: must be 1 to 1000 characters');
    expect(problem(faqEntrySchema, { ...valid, published: 'yes' })).to.match(/^published: /);
  });

  it('refuses a clinical word in an auto-answer entry, naming the word and where it is', () => {
    expect(problem(faqEntrySchema, { ...valid, autoAnswer: true, questions: ['When are you open?', 'When can I get my test results?'] }))
      .to.match(/^questions\.1: contains "test", a clinical word/);
    expect(problem(faqEntrySchema, { ...valid, language: 'es', autoAnswer: true, answer: 'Para recetas, llame al 555.' })).to.match(/^answer: contains "recetas"/);
    expect(problem(faqEntrySchema, { ...valid, language: 'it', autoAnswer: true, questions: ['Quando ritiro i risultati?'] })).to.match(/^questions\.0: contains "risultati"/);
    // An agent may still be suggested it; and an answer may point to the emergency line.
    expect(faqEntrySchema.safeParse({ ...valid, questions: ['When can I get my test results?'], autoAnswer: false }).success).to.equal(true);
    expect(faqEntrySchema.safeParse({ ...valid, autoAnswer: true, answer: 'We open at 8. In an emergency, call 911.' }).success).to.equal(true);
  });

  it('checks a PATCH body the same way, all fields optional, no defaults', () => {
    expect(faqEntryPatchSchema.parse({ published: true })).to.deep.equal({ published: true });
    expect(problem(faqEntryPatchSchema, { autoAnswer: true, questions: ['Do you treat fevers?'], answer: 'Yes.' })).to.match(/^questions\.0: contains "treat"/);
    expect(problem(faqEntryPatchSchema, { questions: [] })).to.equal('questions: must have 1 to 20 questions');
  });
});
