import { expect } from 'chai';
import { capabilitiesFrom } from '../../server/db/store-capabilities.ts';

describe('store capabilities from buildInfo and hello', () => {
  it('knows FerretDB by its ferretdbVersion: updates not isolated, reads not indexed', () => {
    const caps = capabilitiesFrom({ version: '7.0.42', ferretdbVersion: 'v1.24.2' }, {});
    expect(caps).to.deep.equal({ engine: 'ferretdb', version: 'v1.24.2', isolatedUpdates: false, indexedReads: false, replicaSet: null });
  });

  it('takes anything else at its word as MongoDB, with its replica set', () => {
    const caps = capabilitiesFrom({ version: '7.0.14' }, { setName: 'rs0' });
    expect(caps).to.deep.equal({ engine: 'mongodb', version: '7.0.14', isolatedUpdates: true, indexedReads: true, replicaSet: 'rs0' });
  });
});
