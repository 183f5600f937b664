import { expect } from 'chai';
import { sanitizeEmailHtml } from '../../channels/email/inbound-content.ts';
import { inlineContentIds, normalizeContentId } from '../../channels/email/inline-images.ts';

// As SendGrid posts them for a Gmail mail with one inline photo and one PDF.
const ATTACHMENT_INFO = JSON.stringify({
  attachment1: { filename: 'rash.jpg', name: 'rash.jpg', type: 'image/jpeg', 'content-id': 'ii_lk3b5d0f0' },
  attachment2: { filename: 'referral.pdf', name: 'referral.pdf', type: 'application/pdf' },
});
const CONTENT_IDS = '{"ii_lk3b5d0f0":"attachment1"}';

const urls: Record<string, string> = {
  ii_lk3b5d0f0: '/api/attachments/a1',
  'part1.06090408@example.org': 'https://hub.example.com/api/attachments/a2',
};
const urlFor = (contentId: string) => urls[contentId] ?? null;

describe('inline email images', () => {
  describe('inlineContentIds', () => {
    it('reads both fields as SendGrid sends them', () => {
      expect([...inlineContentIds(ATTACHMENT_INFO, CONTENT_IDS)]).to.deep.equal([['attachment1', 'ii_lk3b5d0f0']]);
      // Either field alone is enough.
      expect([...inlineContentIds(ATTACHMENT_INFO, undefined)]).to.deep.equal([['attachment1', 'ii_lk3b5d0f0']]);
      expect([...inlineContentIds(undefined, CONTENT_IDS)]).to.deep.equal([['attachment1', 'ii_lk3b5d0f0']]);
    });

    it('gives an empty map for the fixture-style empty {} and for no fields', () => {
      expect(inlineContentIds('{"attachment1": {"filename": "referral.pdf", "name": "referral.pdf", "type": "application/pdf"}}', '{}').size).to.equal(0);
      expect(inlineContentIds(undefined, undefined).size).to.equal(0);
    });

    it('removes angle brackets and spaces around content ids', () => {
      const map = inlineContentIds(
        '{"attachment2": {"filename": "b.png", "type": "image/png", "content-id": " <part1.06090408@example.org> "}}',
        '{"<ii_abc>": "attachment1"}',
      );
      expect([...map]).to.deep.equal([
        ['attachment1', 'ii_abc'],
        ['attachment2', 'part1.06090408@example.org'],
      ]);
    });

    it('prefers content-ids when the two fields disagree', () => {
      const map = inlineContentIds('{"attachment1": {"content-id": "from-info"}}', '{"from-content-ids": "attachment1"}');
      expect(map.get('attachment1')).to.equal('from-content-ids');
    });

    it('ignores malformed JSON, arrays, non-string values, bad field names and unusable ids', () => {
      for (const bad of ['{', 'null', '[]', '"x"', '42', '']) {
        expect(inlineContentIds(bad, bad).size, bad).to.equal(0);
      }
      const map = inlineContentIds(
        JSON.stringify({ attachment1: 'not an object', attachment2: { 'content-id': 42 }, __proto__x: { 'content-id': 'a' }, attachment3: null }),
        '{"a": "email", "b": "attachment0", "c": ["attachment1"], "": "attachment4", "<>": "attachment5", "x y": "attachment6", "__proto__": "attachment7"}',
      );
      // "__proto__" is only an id here, kept in a Map: nothing reaches Object.prototype.
      expect([...map]).to.deep.equal([['attachment7', '__proto__']]);
      expect(({} as Record<string, unknown>).attachment7).to.equal(undefined);
    });

    it('keeps at most 50 entries', () => {
      const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`cid${i}`, `attachment${i + 1}`]));
      expect(inlineContentIds(undefined, JSON.stringify(many)).size).to.equal(50);
    });
  });

  describe('normalizeContentId', () => {
    it('trims, removes one pair of angle brackets and refuses ids with spaces, quotes or controls', () => {
      expect(normalizeContentId(' <ii_abc> ')).to.equal('ii_abc');
      expect(normalizeContentId('ii_abc')).to.equal('ii_abc');
      for (const bad of ['', '<>', '  ', 'a b', 'a"b', "a'b", 'a\u0000b', '<<a>>', 'x'.repeat(257)]) {
        expect(normalizeContentId(bad), bad).to.equal(null);
      }
    });
  });

  describe('sanitizeEmailHtml with inline images', () => {
    it('keeps cid: images with src, alt, width and height only', () => {
      const clean = sanitizeEmailHtml('<p>My rash:</p><img src="cid:ii_abc" alt="rash" width="640" height="480" class="x" style="width:9999px" title="t">', {
        inlineImages: true,
      });
      expect(clean).to.equal('<p>My rash:</p><img src="cid:ii_abc" alt="rash" width="640" height="480" />');
    });

    it('drops remote, data:, protocol-relative and relative images with their tag', () => {
      const clean = sanitizeEmailHtml(
        '<p>Hi</p><img src="http://track.example.org/p.gif"><img src="https://track.example.org/p.gif"><img src="data:image/png;base64,iVBORw0KGgo=">' +
          '<img src="//track.example.org/p.gif"><img src="/api/me"><img src="pixel.gif"><img alt="no src"><img src="  ">' +
          '<img src="javascript:alert(1)"><img srcset="https://track.example.org/p.gif 1x">',
        { inlineImages: true },
      );
      expect(clean).to.equal('<p>Hi</p>');
    });

    it('removes script, event handlers and sizes that are not plain numbers', () => {
      const clean = sanitizeEmailHtml(
        '<img src="cid:ii_abc" onerror="alert(1)" onload="steal()" width="100%" height="1e9"><script>alert(2)</script><svg><image href="x"/></svg>',
        { inlineImages: true },
      );
      expect(clean).to.equal('<img src="cid:ii_abc" />');
    });

    it('still drops every image without the option', () => {
      expect(sanitizeEmailHtml('<p>Hi</p><img src="cid:ii_abc" alt="rash">')).to.equal('<p>Hi</p>');
    });
  });
});
