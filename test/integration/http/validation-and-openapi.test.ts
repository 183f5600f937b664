import { expect } from 'chai';
import { toOpenApiPath } from '../../../server/http/openapi.ts';
import { patientWrites, startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

describe('REST: validation errors and the OpenAPI document', () => {
  let t: TestHub;
  let admin: Session;
  let conversationId: string;
  before(async () => {
    t = await startTestHub({ label: 'validation' });
    admin = await t.admin();
    conversationId = (await patientWrites(t, { channel: 'sms', from: '+14155550401', body: 'hi' })).conversation.id;
  });
  after(() => t.close());

  const cases: [string, string, unknown, string][] = [
    ['POST', '/messages', { body: '' }, 'body'],
    ['POST', '/messages', { body: 'x'.repeat(10_001) }, 'body'],
    ['POST', '/messages', { body: 'hi', channel: 'fax' }, 'channel'],
    ['POST', '/messages', { body: 'hi', clientId: 'has spaces' }, 'clientId'],
    ['POST', '/notes', {}, 'body'],
    ['PATCH', '', { priority: 'whenever' }, 'priority'],
    ['POST', '/assign', {}, 'assigneeId'],
    ['POST', '/assign', { assigneeId: 'no-such-agent' }, 'assigneeId'],
    ['POST', '/assign', { teamId: 'no-such-team' }, 'teamId'],
  ];
  for (const [method, suffix, body, field] of cases) {
    it(`answers ${method} …${suffix || '/:id'} ${JSON.stringify(body).slice(0, 40)} with 400 naming "${field}"`, async () => {
      const res = await t.api.request(method, `/api/conversations/${conversationId}${suffix}`, body, admin.token);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('INVALID_INPUT');
      expect(res.body.error.field).to.equal(field);
      expect(res.body.error.message).to.be.a('string').and.not.empty;
    });
  }

  it('names bad query parameters', async () => {
    for (const [query, field] of [['limit=0', 'limit'], ['status=closed', 'status'], ['channel=fax', 'channel'], ['cursor=garbage', 'cursor']]) {
      const res = await t.api.get(`/api/conversations?${query}`, admin.token);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.field, query).to.equal(field);
    }
    const both = await t.api.get(`/api/conversations/${conversationId}/messages?after=1&before=3`, admin.token);
    expect(both.status).to.equal(400);
  });

  it('answers malformed JSON with 400 and an unknown route with 404, both as {error}', async () => {
    const bad = await t.api.request('POST', '/api/auth/login', '{"email":', undefined);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('INVALID_INPUT');
    const missing = await t.api.get('/api/nothing-here', admin.token);
    expect(missing.status).to.equal(404);
    expect(missing.body.error.code).to.equal('NOT_FOUND');
  });

  it('refuses a bad sandbox phone number with 400 naming the field, storing nothing', async () => {
    const before = await t.hub.services.db.models.Patient.countDocuments();
    const res = await t.api.post('/api/dev/inbound', { channel: 'sms', from: 'not a phone', body: 'x' }, admin.token);
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('INVALID_PHONE_NUMBER');
    expect(await t.hub.services.db.models.Patient.countDocuments()).to.equal(before);
  });

  it('documents every route the hub serves, and serves every documented route', async () => {
    const doc = (await t.api.get('/api/openapi.json')).body;
    expect(doc.openapi).to.equal('3.1.0');
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = new Set(t.hub.routes.map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path)}`));
    expect([...documented].sort()).to.deep.equal([...served].sort());
    // Each documented route answers something other than "no such route".
    for (const entry of documented) {
      const [method, path] = entry.split(' ') as [string, string];
      const res = await t.api.request(method, path.replace(/\{[^}]+\}/g, 'x'), method === 'GET' ? undefined : {});
      expect(res.body?.error?.message ?? '', entry).not.to.match(/^No route/);
    }
    for (const path of ['/api/auth/login', '/api/conversations', '/api/conversations/{id}/messages', '/api/dev/outbox']) {
      expect(doc.paths, path).to.have.property(path);
    }
    expect(doc.paths['/api/conversations/{id}/messages'].post.requestBody.content['application/json'].schema.properties).to.have.keys('body', 'channel', 'clientId', 'subject', 'attachmentIds', 'recipientId');
  });
});
