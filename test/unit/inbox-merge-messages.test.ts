import { expect } from 'chai';
import { mergeMessages } from '../../client-inbox/src/inbox-model.ts';
import type { MessageRecord } from '../../client-inbox/src/types.ts';

const message = (id: string, seq: number, statuses: string[]) =>
  ({ id, seq, delivery: { status: statuses.at(-1), error: null, history: statuses.map((status) => ({ status, at: null, errorCode: null })) } }) as unknown as MessageRecord;

describe('the inbox timeline’s merge of messages', () => {
  it('keeps seq order and replaces a message by a newer copy', () => {
    const merged = mergeMessages([message('b', 2, ['queued'])], [message('a', 1, ['received']), message('b', 2, ['queued', 'sent'])]);
    expect(merged.map((m) => `${m.id}:${m.delivery.status}`)).to.deep.equal(['a:received', 'b:sent']);
  });

  it('never takes a delivery status back when an older copy arrives late (the POST answer after the socket’s "failed")', () => {
    const failed = message('r', 3, ['queued', 'failed']);
    const lateAnswer = message('r', 3, ['queued']);
    expect(mergeMessages([failed], [lateAnswer])[0]!.delivery.status).to.equal('failed');
  });
});
