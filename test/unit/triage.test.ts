import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTriageMatcher, safetyReply, type TriageLanguage } from '../../server/routing/triage/triage-matcher.ts';
import { loadTriageRules, type TriageRules } from '../../server/routing/triage/triage-rules.ts';

const MEDICAL = 'medical_emergency';
const SUICIDAL = 'suicidal_crisis';
const VIOLENCE = 'violence_or_abuse';

/** [message, category, language of the matched phrase]: add a row to extend. */
const MUST_MATCH: [string, string, TriageLanguage][] = [
  ['I have chest pain', MEDICAL, 'en'],
  ['CHEST PAIN!!! 😭', MEDICAL, 'en'],
  ['cheeeest paaain', MEDICAL, 'en'],
  ['my chest has terrible pain', MEDICAL, 'en'],
  ['Pain in my chest and my left arm', MEDICAL, 'en'],
  ["I think I'm having a hart attack", MEDICAL, 'en'],
  ['i cant breathe', MEDICAL, 'en'],
  ["I can't really breathe", MEDICAL, 'en'],
  ["breathe I can't", MEDICAL, 'en'],
  ['I cannot breath', MEDICAL, 'en'],
  ['can not breathe, please help', MEDICAL, 'en'],
  ['my baby is not breathing!!', MEDICAL, 'en'],
  ['my son is chocking', MEDICAL, 'en'],
  ['I think my dad is having a strok', MEDICAL, 'en'],
  ['her face is drooping and her speech is slurred', MEDICAL, 'en'],
  ['worst headache of my life', MEDICAL, 'en'],
  ["he passed out and won't wake up", MEDICAL, 'en'],
  ['she is unconcious', MEDICAL, 'en'],
  ['my daughter is having a seizure 🚨', MEDICAL, 'en'],
  ['My throat is swelling, allergic reaction', MEDICAL, 'en'],
  ['I took too many pills', MEDICAL, 'en'],
  ['he overdosed on his meds', MEDICAL, 'en'],
  ["the bleeding won't stop", MEDICAL, 'en'],
  ['sudden numbness on one side of my body', MEDICAL, 'en'],
  ["i think i'm going to pass out", MEDICAL, 'en'],
  ['coughing up blood', MEDICAL, 'en'],
  ['seizure meds ran out and now he is having a seizure', MEDICAL, 'en'],
  // Accepted false positives: no negation or tense handling.
  ['no chest pain anymore, just a cough', MEDICAL, 'en'],
  ['I had chest pain last year, is that in my record?', MEDICAL, 'en'],
  ['I want to die', SUICIDAL, 'en'],
  ["I'm going to kill myself", SUICIDAL, 'en'],
  ['I feel suicidal', SUICIDAL, 'en'],
  ['I just want to end my life.', SUICIDAL, 'en'],
  ['everyone would be better off if I was dead', SUICIDAL, 'en'],
  ["I've been cutting myself again", SUICIDAL, 'en'],
  ["there's no reason to live", SUICIDAL, 'en'],
  ['I want to unalive myself', SUICIDAL, 'en'],
  ['I AM NOT SAFE AT HOME', VIOLENCE, 'en'],
  ['someone is hurting me', VIOLENCE, 'en'],
  ['My husband hits me', VIOLENCE, 'en'],

  ['Tengo dolor de pecho', MEDICAL, 'es'],
  ['dolor en el pecho muy fuerte', MEDICAL, 'es'],
  ['DOLOR DE PECHO!!!', MEDICAL, 'es'],
  ['no puedo respirar', MEDICAL, 'es'],
  ['No puedo respriar bien', MEDICAL, 'es'],
  ['me falta el aire 😰', MEDICAL, 'es'],
  ['creo que es un ataque al corazon', MEDICAL, 'es'],
  ['mi hijo se está atragantando', MEDICAL, 'es'],
  ['mi papa tuvo un derrame cerebral', MEDICAL, 'es'],
  ['sangrado que no para', MEDICAL, 'es'],
  ['se desmayo y no despierta', MEDICAL, 'es'],
  ['tomé demasiadas pastillas', MEDICAL, 'es'],
  ['sobredosis', MEDICAL, 'es'],
  ['tiene convulsiones', MEDICAL, 'es'],
  ['se me cierra la garganta', MEDICAL, 'es'],
  ['quiero morir', SUICIDAL, 'es'],
  ['me quiero matar', SUICIDAL, 'es'],
  ['quiero quitarme la vida', SUICIDAL, 'es'],
  ['ya no quiero vivir', SUICIDAL, 'es'],
  ['estoy pensando en suicidarme', SUICIDAL, 'es'],
  ['me corto para hacerme daño', SUICIDAL, 'es'],
  ['mi esposo me pega', VIOLENCE, 'es'],
  ['no estoy segura en casa', VIOLENCE, 'es'],

  ['ho un forte dolore al petto', MEDICAL, 'it'],
  ['DOLORE AL PETTO!!', MEDICAL, 'it'],
  ['dolore al peto', MEDICAL, 'it'],
  ['non riesco a respirare', MEDICAL, 'it'],
  ['nn riesco a respiare', MEDICAL, 'it'],
  ["mi manca l'aria", MEDICAL, 'it'],
  ['credo sia un infarto', MEDICAL, 'it'],
  ['ha la bocca storta e non parla bene', MEDICAL, 'it'],
  ['mio figlio sta soffocando', MEDICAL, 'it'],
  ['è svenuta e non si sveglia', MEDICAL, 'it'],
  ['ha le convulsioni', MEDICAL, 'it'],
  ['ho preso troppe pillole', MEDICAL, 'it'],
  ['emorragia!!', MEDICAL, 'it'],
  ['il sangue non si ferma', MEDICAL, 'it'],
  ['voglio morire', SUICIDAL, 'it'],
  ['voglio farla finita', SUICIDAL, 'it'],
  ['mi voglio uccidere', SUICIDAL, 'it'],
  ['sto pensando di togliermi la vita', SUICIDAL, 'it'],
  ['mi faccio del male', SUICIDAL, 'it'],
  ['non sono al sicuro a casa', VIOLENCE, 'it'],
  ['mio marito mi picchia', VIOLENCE, 'it'],
];

/** Ordinary clinic messages: add a row to extend. */
const MUST_NOT_MATCH: string[] = [
  'my chest x-ray results',
  'can I get the results of my chest CT?',
  "the baby's breathing treatment refill",
  "I'm dying to know my results",
  'Thanks! Dying to know how it went',
  'my appointment is killing me lol',
  'What a stroke of luck, I got the earlier slot',
  'bleeding gums when I brush',
  'I have an overdue bill',
  'pills refill please',
  'I passed the exam!',
  "Can't wait to see Dr. Lee!",
  "I can't make it Tuesday, can we reschedule?",
  'Please send the seizure medication refill',
  'Is the breathing test covered by my insurance?',
  'My heart rate app says 72, is that normal?',
  'poison ivy rash on my arm',
  'How much blood work do I need before the visit?',
  'What are the hours for substance abuse counseling?',
  '¿Me pueden enviar los resultados de la radiografía de pecho?',
  'Necesito renovar mi receta de pastillas',
  'Me muero de ganas de ver los resultados',
  'Aprobé el examen',
  'La factura está vencida',
  'Me sangran las encías al cepillarme',
  'No puedo ir a la cita del martes',
  'tengo dolor de espalda pero ya estoy mejor',
  '¿Puedo cortarme el pelo antes de la cirugía?',
  'Posso avere i risultati della radiografia al torace?',
  'Ho bisogno della ricetta delle pillole',
  'Muoio dalla voglia di vedere i risultati',
  "Ho superato l'esame",
  'La bolletta è scaduta',
  'Mi sanguinano le gengive quando lavo i denti',
  "Non riesco a venire all'appuntamento di lunedì",
  'Che colpo di fortuna!',
  "Devo tagliarmi i capelli prima dell'intervento?",
  '',
  '👍',
];

const rules = loadTriageRules();
const matcher = createTriageMatcher(rules);

describe('triage matcher', () => {
  describe('must match', () => {
    for (const [text, category, language] of MUST_MATCH) {
      it(`${JSON.stringify(text)} → ${category} (${language})`, () => {
        const match = matcher.match(text);
        expect(match, 'no match').to.not.equal(null);
        expect(match!.category).to.equal(category);
        expect(match!.language).to.equal(language);
        expect(match!.label).to.equal(rules.categories[category]!.label);
      });
    }
  });

  describe('must not match', () => {
    for (const text of MUST_NOT_MATCH) {
      it(JSON.stringify(text), () => {
        expect(matcher.match(text)).to.equal(null);
      });
    }
  });

  it('has enough cases in each language', () => {
    const count = (language: TriageLanguage) => MUST_MATCH.filter(([, , l]) => l === language).length;
    expect(count('en')).to.be.at.least(25);
    expect(count('es')).to.be.at.least(15);
    expect(count('it')).to.be.at.least(15);
    expect(MUST_NOT_MATCH.length).to.be.at.least(20);
    for (const category of [MEDICAL, SUICIDAL, VIOLENCE]) {
      for (const language of ['en', 'es', 'it'] as const) {
        expect(MUST_MATCH.some(([, c, l]) => c === category && l === language), `${category} ${language}`).to.equal(true);
      }
    }
  });

  it('reports the phrase as written in the rules', () => {
    expect(matcher.match('cheeeest paaain')?.phrase).to.equal('chest pain*');
  });

  it('lets the first category in the rules win', () => {
    expect(matcher.match('I took too many pills, I want to die')?.category).to.equal(MEDICAL);
  });

  it('needs the words of a phrase near each other', () => {
    expect(matcher.match('chest pain')).to.not.equal(null);
    expect(matcher.match('my chest x-ray from last spring was fine and the doctor said the pain was muscular')).to.equal(null);
  });

  it('matches a 300-character message quickly', () => {
    const quiet = 'Hi, this is about my appointment next week. Could I move it to Thursday afternoon? Also, are the lab results from my last visit ready? My daughter needs a refill of her inhaler too, and my husband wants to book a flu shot. Thank you so much for your help and see you soon, have a lovely weekend all!';
    const urgent = `${quiet.slice(0, 280)} can't breathe`;
    expect(quiet.length).to.be.within(290, 310);
    expect(matcher.match(quiet)).to.equal(null);
    expect(matcher.match(urgent)?.category).to.equal(MEDICAL);
    const rounds = 2000;
    for (let i = 0; i < 200; i++) matcher.match(i % 2 ? quiet : urgent);
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) matcher.match(i % 2 ? quiet : urgent);
    const perMessage = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
    console.log(`      triage match: ${perMessage.toFixed(3)} ms per ~300-character message (default rules)`);
  });
});

describe('loadTriageRules', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'triage-rules-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, content: unknown): string {
    const file = join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }
  /** The default rules with one change, as a file. */
  function variant(name: string, change: (rules: any) => void): string {
    const copy = structuredClone(loadTriageRules());
    change(copy);
    return write(name, copy);
  }

  it('loads the default file: every category has an English reply and phrases', () => {
    expect(Object.keys(rules.categories)).to.deep.equal([MEDICAL, SUICIDAL, VIOLENCE]);
    for (const category of Object.values(rules.categories)) {
      expect(category.reply.en).to.be.a('string');
      expect(category.reply.es).to.be.a('string');
      expect(category.reply.it).to.be.a('string');
      expect(category.phrases.en!.length).to.be.greaterThan(0);
      expect(category.phrases.es!.length).to.be.greaterThan(0);
      expect(category.phrases.it!.length).to.be.greaterThan(0);
    }
  });

  it('keeps the default replies within 300 characters with an urgent line', () => {
    for (const name of Object.keys(rules.categories)) {
      for (const language of ['en', 'es', 'it']) {
        const reply = safetyReply(rules, { category: name }, language, '(555) 010-0199');
        expect([...reply].length, `${name} ${language}`).to.be.at.most(300);
      }
    }
  });

  it('reads a custom file instead of the defaults', () => {
    const file = write('custom.json', {
      version: 1,
      categories: { test_only: { label: 'Test', reply: { en: 'Call 911.' }, phrases: { en: ['purple elephant*'] } } },
    });
    const custom = loadTriageRules(file);
    expect(Object.keys(custom.categories)).to.deep.equal(['test_only']);
    const customMatcher = createTriageMatcher(custom);
    expect(customMatcher.match('an elephant, purple!')).to.deep.equal({ category: 'test_only', label: 'Test', language: 'en', phrase: 'purple elephant*' });
    expect(customMatcher.match('chest pain')).to.equal(null);
  });

  const refusals: [string, (dir: string) => string, RegExp][] = [
    ['malformed JSON', () => write('broken.json', '{ "version": 1, '), /broken\.json: cannot read as JSON/],
    ['a missing file', (d) => join(d, 'absent.json'), /absent\.json: cannot read as JSON/],
    ['a missing English reply', () => variant('no-en.json', (r) => delete r.categories.medical_emergency.reply.en), /no-en\.json: categories\.medical_emergency\.reply\.en: required$/],
    ['an empty phrase', () => variant('empty-phrase.json', (r) => r.categories.medical_emergency.phrases.en.unshift('')), /empty-phrase\.json: categories\.medical_emergency\.phrases\.en\.0: must have at least 2 characters$/],
    ['a one-letter phrase', () => variant('short-phrase.json', (r) => r.categories.suicidal_crisis.phrases.es.push(' x ')), /short-phrase\.json: categories\.suicidal_crisis\.phrases\.es\.\d+: must have at least 2 characters$/],
    ['a phrase of stop words only', () => variant('stop.json', (r) => r.categories.medical_emergency.phrases.it.push('il mio')), /stop\.json: categories\.medical_emergency\.phrases\.it\.\d+: has only stop words/],
    ['a * inside a word', () => variant('star.json', (r) => r.categories.medical_emergency.phrases.en.push('ch*st')), /star\.json: .*phrases\.en\.\d+: a \* may only end a word$/],
    ['a category without phrases', () => variant('no-phrases.json', (r) => (r.categories.violence_or_abuse.phrases = {})), /no-phrases\.json: categories\.violence_or_abuse\.phrases: needs at least one phrase$/],
    ['an unknown language', () => variant('fr.json', (r) => (r.categories.medical_emergency.phrases.fr = ['douleur thoracique'])), /fr\.json: categories\.medical_emergency\.phrases: .*"fr"/],
    ['{urgentLine} inside a reply', () => variant('in-reply.json', (r) => (r.categories.medical_emergency.reply.es += ' {urgentLine}')), /in-reply\.json: categories\.medical_emergency\.reply\.es: put the sentence with \{urgentLine\} in urgentLine\.es$/],
    ['an urgent-line sentence without {urgentLine}', () => variant('no-placeholder.json', (r) => (r.categories.suicidal_crisis.urgentLine.it = 'Chiami la clinica.')), /no-placeholder\.json: categories\.suicidal_crisis\.urgentLine\.it: must contain \{urgentLine\}$/],
    ['a reply over 300 characters', () => variant('long.json', (r) => (r.categories.medical_emergency.reply.en = 'Call 911. '.repeat(30))), /long\.json: categories\.medical_emergency\.reply\.en: with its urgentLine sentence, \d+ characters; at most 300$/],
    ['a bad category name', () => variant('name.json', (r) => (r.categories['Bad Name'] = r.categories.medical_emergency)), /name\.json: categories\.Bad Name: a category name is lowercase letters, digits and _$/],
    ['another version', () => variant('version.json', (r) => (r.version = 2)), /version\.json: version: must be 1$/],
  ];
  for (const [problem, file, message] of refusals) {
    it(`refuses ${problem}, naming the file and the problem`, () => {
      expect(() => loadTriageRules(file(dir))).to.throw(Error, message);
    });
  }
});

describe('safetyReply', () => {
  const medical = { category: MEDICAL };
  const line = '(555) 010-0199';

  it('answers in each language, with the urgent line only when there is one', () => {
    const sentence = { en: 'You can also call our urgent line: (555) 010-0199.', es: 'También puede llamar a nuestra línea de urgencias: (555) 010-0199.', it: 'Può anche chiamare la nostra linea urgente: (555) 010-0199.' };
    for (const language of ['en', 'es', 'it'] as const) {
      const without = safetyReply(rules, medical, language);
      expect(without).to.equal(rules.categories[MEDICAL]!.reply[language]);
      expect(without).to.include('911').and.not.include('{urgentLine}').and.not.include(line);
      expect(safetyReply(rules, medical, language, null)).to.equal(without);
      expect(safetyReply(rules, medical, language, '  ')).to.equal(without);
      expect(safetyReply(rules, medical, language, line)).to.equal(`${without} ${sentence[language]}`);
    }
  });

  it('gives 988 and 911 for a suicidal crisis in each language', () => {
    for (const language of ['en', 'es', 'it']) {
      const reply = safetyReply(rules, { category: SUICIDAL }, language, line);
      expect(reply).to.include('988').and.include('911').and.include(line);
    }
    expect(safetyReply(rules, { category: SUICIDAL }, 'es')).to.include('oprima 2 para español');
  });

  it('falls back to English', () => {
    const english = safetyReply(rules, medical, 'en', line);
    expect(safetyReply(rules, medical, 'fr', line)).to.equal(english);
    expect(safetyReply(rules, medical, null, line)).to.equal(english);
    expect(safetyReply(rules, medical, undefined)).to.equal(rules.categories[MEDICAL]!.reply.en);
    expect(safetyReply(rules, medical, 'es-MX')).to.equal(rules.categories[MEDICAL]!.reply.es);
    const englishOnly: TriageRules = { version: 1, categories: { x: { label: 'X', reply: { en: 'Call 911.' }, urgentLine: { en: 'Or {urgentLine}.' }, phrases: { en: ['xx'] } } } };
    expect(safetyReply(englishOnly, { category: 'x' }, 'it', line)).to.equal(`Call 911. Or ${line}.`);
  });

  it('inserts the urgent line literally', () => {
    expect(safetyReply(rules, medical, 'en', '$& 555')).to.match(/urgent line: \$& 555\.$/);
  });

  it('refuses a category the rules do not have', () => {
    expect(() => safetyReply(rules, { category: 'nope' }, 'en')).to.throw(/nope/);
  });
});
