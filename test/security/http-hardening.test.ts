import { expect } from 'chai';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

/**
 * Security items 8 and 9: PHI never lands in a shared cache, and hostile
 * request encodings get a client error with the usual body, never a 500.
 */
describe('HTTP hardening: no caching of PHI, bad encodings are client errors', () => {
  let t: TestHub;
  let admin: Session;
  let conversationId: string;
  let patientId: string;
  before(async () => {
    t = await startTestHub({ label: 'http-hardening' });
    admin = await t.admin();
    const written = await patientWrites(t, { channel: 'sms', from: '+13035550190', body: 'is my result in?' });
    conversationId = written.conversation.id;
    patientId = written.patientId;
  });
  after(() => t.close());

  const authed = (path: string, init: RequestInit = {}) =>
    fetch(`${t.url}${path}`, { ...init, headers: { authorization: `Bearer ${admin.token}`, ...(init.headers as Record<string, string> | undefined) } });

  const expectNotCached = (res: Response) => {
    expect(res.headers.get('cache-control') ?? '').to.include('no-store');
    expect(res.headers.get('etag')).to.equal(null);
  };

  const expectErrorBody = async (res: Response, status: number, code: string) => {
    expect(res.status).to.equal(status);
    expect(res.headers.get('content-type') ?? '').to.match(/^application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal(code);
    expect(body.error.message).to.be.a('string').and.not.equal('');
    expectNotCached(res);
    return body;
  };

  describe('Cache-Control: no-store and no ETag on PHI', () => {
    it('on the inbox list', async () => {
      const res = await authed('/api/conversations');
      expect(res.status).to.equal(200);
      expectNotCached(res);
    });

    it('on a patient, and a conditional request is not answered 304 from a weak ETag', async () => {
      const res = await authed(`/api/patients/${patientId}`);
      expect(res.status).to.equal(200);
      expectNotCached(res);
      const again = await authed(`/api/patients/${patientId}`, { headers: { 'if-none-match': '*' } });
      expect(again.status).to.equal(200);
    });

    it('on a message attachment download', async () => {
      const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(500, 65)]);
      const uploaded = await authed('/api/attachments', {
        method: 'POST', body: new Uint8Array(pdf), headers: { 'content-type': 'application/pdf', 'x-file-name': encodeURIComponent('summary.pdf') },
      });
      expect(uploaded.status).to.equal(201);
      const { attachmentId } = (await uploaded.json()) as { attachmentId: string };
      const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Here it is.', channel: 'sms', attachmentIds: [attachmentId] }, admin.token);
      expect(reply.status).to.equal(201);
      const res = await authed(`/api/conversations/${conversationId}/messages/${reply.body.id}/attachments/0`);
      expect(res.status).to.equal(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(pdf)).to.equal(true);
      expectNotCached(res);

      // The same file as the carrier fetches it for the MMS: a signed link, no login, no cache either.
      const sent = await waitFor(async () =>
        ((await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items as { messageId: string; request: { MediaUrl?: string[] } }[])
          .find((e) => e.messageId === reply.body.id));
      const media = await fetch(`${t.url}${new URL(sent.request.MediaUrl![0]!).pathname}`);
      expect(media.status).to.equal(200);
      expectNotCached(media);
    });

    it('on errors and on the public API answers too', async () => {
      expectNotCached(await fetch(`${t.url}/api/conversations`));
      expectNotCached(await authed('/api/conversations/nope-1'));
      expectNotCached(await fetch(`${t.url}/api/openapi.json`));
    });

    it('leaves /widget.js with its own ETag and caching', async () => {
      const res = await fetch(`${t.url}/widget.js`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('public, max-age=300');
      const etag = res.headers.get('etag');
      expect(etag).to.match(/^"[\w-]+"$/);
      const revalidated = await fetch(`${t.url}/widget.js`, { headers: { 'if-none-match': etag! } });
      expect(revalidated.status).to.equal(304);
    });

    it('leaves the inbox app with its own ETag', async () => {
      const res = await fetch(`${t.url}/inbox/`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-cache');
      const revalidated = await fetch(`${t.url}/inbox/`, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(revalidated.status).to.equal(304);
    });
  });

  describe('requests the hub cannot serve as sent get a 4xx with the error body, never a 500', () => {
    it('bad percent-encoding in a path is 400 naming the path', async () => {
      const res = await authed('/api/conversations/%E0%A4%A');
      const body = await expectErrorBody(res, 400, 'INVALID_INPUT');
      expect((body.error as { field?: string }).field).to.equal('path');
    });

    it('bad percent-encoding in a path outside /api is 400 too', async () => {
      const res = await fetch(`${t.url}/m/%E0%A4%A`);
      expect(res.status).to.equal(400);
    });

    it('bad percent-encoding in a path is 400 before authentication', async () => {
      await expectErrorBody(await fetch(`${t.url}/api/patients/%ZZ`), 400, 'INVALID_INPUT');
    });

    it('an unsupported request charset is 415', async () => {
      const res = await authed('/api/agents', {
        method: 'POST', body: '{"email":"x@y.z"}', headers: { 'content-type': 'application/json; charset=ibm037' },
      });
      await expectErrorBody(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('an unsupported Content-Encoding is 415', async () => {
      const res = await authed(`/api/conversations/${conversationId}/notes`, {
        method: 'POST', body: '{"body":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      });
      await expectErrorBody(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a gzip body that does not inflate is 400, not 500', async () => {
      const res = await authed(`/api/conversations/${conversationId}/notes`, {
        method: 'POST', body: 'definitely not gzip', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      await expectErrorBody(res, 400, 'INVALID_INPUT');
    });

    it('malformed JSON is 400 naming the body', async () => {
      const res = await authed(`/api/conversations/${conversationId}/notes`, {
        method: 'POST', body: '{"body": "x",', headers: { 'content-type': 'application/json' },
      });
      const body = await expectErrorBody(res, 400, 'INVALID_INPUT');
      expect((body.error as { field?: string }).field).to.equal('body');
    });

    it('a method a path does not serve is 405 with Allow, not 404', async () => {
      const res = await authed('/api/agents', { method: 'DELETE' });
      await expectErrorBody(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.get('allow')).to.equal('GET, HEAD, POST');
      expect((await authed('/api/no-such-thing', { method: 'DELETE' })).status).to.equal(404);
    });

    it('OPTIONS lists the methods the document declares for that path: a concrete path before a template', async () => {
      const counts = await authed('/api/conversations/counts', { method: 'OPTIONS' });
      expect(counts.status).to.equal(204);
      expect(counts.headers.get('allow')).to.equal('GET, HEAD');
      const one = await authed(`/api/conversations/${conversationId}`, { method: 'OPTIONS' });
      expect(one.headers.get('allow')).to.equal('GET, HEAD, PATCH');
      const wrong = await authed('/api/conversations/counts', { method: 'DELETE' });
      expect(wrong.status).to.equal(405);
      expect(wrong.headers.get('allow')).to.equal('GET, HEAD');
    });

    it('a body over the limit is 413', async () => {
      const res = await authed(`/api/conversations/${conversationId}/notes`, {
        method: 'POST', body: JSON.stringify({ body: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' },
      });
      await expectErrorBody(res, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('the OpenAPI document describes what the hub answers', () => {
    it('documents response records as open (they hold more than the fields named) and the error body as closed', async () => {
      const doc = (await t.api.get('/api/openapi.json')).body;
      const conversation = doc.paths['/api/conversations/{id}'].get.responses['200'].content['application/json'].schema;
      expect(conversation.required).to.include('id');
      expect(conversation).not.to.have.property('additionalProperties');
      const error = doc.paths['/api/conversations/{id}'].get.responses['4XX'].content['application/json'].schema;
      expect(error.additionalProperties).to.equal(false);
      expect(error.properties.error.additionalProperties).to.equal(false);
      expect(error.properties.error.properties.code.enum).to.include('METHOD_NOT_ALLOWED');
      const answer = (await authed(`/api/conversations/${conversationId}`).then((r) => r.json())) as Record<string, unknown>;
      expect(Object.keys(answer)).to.include.members(conversation.required);
    });
  });
});
