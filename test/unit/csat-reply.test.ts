import { expect } from 'chai';
import { parseCsatReply } from '../../server/csat/csat-reply.ts';

describe('reading a text as a satisfaction score (en/es/it)', () => {
  const cases: [string, { score: number; comment: string | null } | null][] = [
    ['5', { score: 5, comment: null }],
    ['  4.  ', { score: 4, comment: null }],
    ['5 great service', { score: 5, comment: 'great service' }],
    ['5 - thanks a lot', { score: 5, comment: 'thanks a lot' }],
    ['5/5', { score: 5, comment: null }],
    ['4 out of 5', { score: 4, comment: null }],
    ['5 stars', { score: 5, comment: null }],
    ['FIVE STARS', { score: 5, comment: null }],
    ['five', { score: 5, comment: null }],
    ['Cinco!', { score: 5, comment: null }],
    ['cinco, muy amables', { score: 5, comment: 'muy amables' }],
    ['4 estrellas', { score: 4, comment: null }],
    ['tres', { score: 3, comment: null }],
    ['cinque stelle, grazie', { score: 5, comment: 'grazie' }],
    ['quattro.', { score: 4, comment: null }],
    ['⭐⭐⭐⭐', { score: 4, comment: null }],
    ['★★★★★ nice', { score: 5, comment: 'nice' }],
    ['7', null],
    ['0', null],
    ['10', null],
    ['3.5', null],
    ['2 pm', null],
    ['5:30', null],
    ['2 de la tarde', null],
    ['3 days ago I started coughing', null],
    ['1 2 3', null],
    ['5great', null],
    ['one more thing', null],
    ['una pregunta', null],
    ["I'd give you 5", null],
    ['', null],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected ? `${expected.score}${expected.comment ? ` + "${expected.comment}"` : ''}` : 'not a score'}`, () => {
      expect(parseCsatReply(text)).to.deep.equal(expected);
    });
  }

  it('keeps at most 1000 characters of comment', () => {
    expect(parseCsatReply(`5 ${'a'.repeat(1500)}`)!.comment).to.have.length(1000);
  });
});
