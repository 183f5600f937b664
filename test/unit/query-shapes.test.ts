import { expect } from 'chai';
import { describeShape, indexServing, shapesOfPipeline, shapesOfQuery, type IndexKey } from '../../server/db/query-shapes.ts';

const inbox: IndexKey = [['teamId', 1], ['lastMessageAt', -1], ['_id', -1]];
const served = (filter: object, sort: object, indexes: IndexKey[]) => shapesOfQuery('conversations', 'find', filter, sort).map((s) => indexServing(s, indexes));

describe('query shapes and the indexes that serve them on MongoDB', () => {
  it('reads equality, range and sort fields, one shape per $or branch', () => {
    const shapes = shapesOfQuery('conversations', 'find', {
      teamId: { $in: ['a', 'b'] }, status: 'open',
      $or: [{ lastMessageAt: { $lt: new Date(0) } }, { lastMessageAt: new Date(0), _id: { $lt: 'x' } }],
    }, { lastMessageAt: -1, _id: -1 });
    expect(shapes.map(describeShape)).to.deep.equal([
      'conversations find eq(status,teamId) range(lastMessageAt) sort(lastMessageAt:-1,_id:-1)',
      'conversations find eq(lastMessageAt,status,teamId) range(_id) sort(lastMessageAt:-1,_id:-1)',
    ]);
  });

  it('serves a keyset page: equality first, then the sort in index order or all reversed', () => {
    const page = { teamId: 't', $or: [{ lastMessageAt: { $lt: new Date(0) } }, { lastMessageAt: new Date(0), _id: { $lt: 'x' } }] };
    expect(served(page, { lastMessageAt: -1, _id: -1 }, [inbox])).to.deep.equal([inbox, inbox]);
    expect(served({ teamId: 't' }, { lastMessageAt: 1, _id: 1 }, [inbox])).to.deep.equal([inbox]);
    // Mixed directions, or the sort before the equality field, would sort in memory.
    expect(served({ teamId: 't' }, { lastMessageAt: -1, _id: 1 }, [inbox])).to.deep.equal([null]);
    expect(served({ teamId: 't' }, { lastMessageAt: -1 }, [[['lastMessageAt', -1], ['teamId', 1]]])).to.deep.equal([null]);
  });

  it('finds no index for a field nobody indexed, a range with no index, or $where; _id is always served', () => {
    expect(served({ channels: 'sms' }, {}, [inbox])).to.deep.equal([null]);
    expect(served({ waitingSince: { $lt: new Date(0) } }, {}, [inbox])).to.deep.equal([null]);
    expect(served({ waitingSince: { $lt: new Date(0) } }, {}, [[['waitingSince', 1]]])).to.deep.equal([[['waitingSince', 1]]]);
    expect(served({ $where: 'true', teamId: 't' }, {}, [inbox])).to.deep.equal([null]);
    expect(served({ _id: 'c1', status: 'open' }, {}, [])).to.deep.equal([[['_id', 1]]]);
  });

  it('reads an aggregation by its leading $match and $sort', () => {
    const [shape] = shapesOfPipeline('messages', [{ $match: { conversationId: 'c', seq: { $gt: 3 } } }, { $sort: { seq: 1 } }, { $limit: 5 }]);
    expect(describeShape(shape!)).to.equal('messages aggregate eq(conversationId) range(seq) sort(seq:1)');
    expect(indexServing(shape!, [[['conversationId', 1], ['seq', 1]]])).to.not.equal(null);
  });
});
