import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import mongoose from 'mongoose';
import {
  DatabaseHealth,
  DEGRADED_SERVER_SELECTION_TIMEOUT_MS,
  isDatabaseOutage,
  SERVER_SELECTION_TIMEOUT_MS,
  type DatabaseStatus,
} from '../../server/db/database-health.ts';

const ADDRESS = '127.0.0.1:27017';

/** The driver's side, as DatabaseHealth hears it: SDAM and connection pool events on the client. */
class FakeClient extends EventEmitter {
  options = { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS };
  topology = { description: topology('Standalone') };
}

function topology(type: string) {
  return { servers: new Map([[ADDRESS, { address: ADDRESS, type }]]) };
}

function watch() {
  const client = new FakeClient();
  const health = new DatabaseHealth(client as never);
  const changes: DatabaseStatus['state'][] = [];
  health.onChange((status) => changes.push(status.state));
  return { client, health, changes };
}

describe('database health', () => {
  it('goes degraded when the server is lost and ok when it is described again, waiting less for a server meanwhile', () => {
    const { client, health, changes } = watch();
    expect(health.available).to.equal(true);
    client.emit('topologyDescriptionChanged', { newDescription: topology('Unknown') });
    expect(health.status).to.include({ state: 'degraded', reason: 'database_unreachable' });
    expect(client.options.serverSelectionTimeoutMS).to.equal(DEGRADED_SERVER_SELECTION_TIMEOUT_MS);
    client.emit('topologyDescriptionChanged', { newDescription: topology('Unknown') });
    client.emit('topologyDescriptionChanged', { newDescription: topology('Standalone') });
    expect(health.available).to.equal(true);
    expect(client.options.serverSelectionTimeoutMS).to.equal(SERVER_SELECTION_TIMEOUT_MS);
    expect(changes).to.deep.equal(['degraded', 'ok']);
  });

  it('goes degraded when an operation cannot connect, and does not flap back on a heartbeat over an old connection', () => {
    const { client, health, changes } = watch();
    client.emit('connectionCheckOutFailed', { reason: 'timeout' });
    expect(health.available, 'a pool wait is not an outage').to.equal(true);
    client.emit('connectionCheckOutFailed', { reason: 'connectionError' });
    expect(health.available).to.equal(false);
    // A server that is stopping still answers heartbeats on the monitor's connection while it refuses new ones.
    client.emit('serverHeartbeatSucceeded', { connectionId: ADDRESS });
    expect(health.available).to.equal(false);
    client.emit('connectionReady', { address: ADDRESS });
    expect(health.available).to.equal(true);
    expect(changes).to.deep.equal(['degraded', 'ok']);
  });

  it('only counts an answer from a server the hub can write to', () => {
    const { client, health } = watch();
    client.emit('topologyDescriptionChanged', { newDescription: topology('Unknown') });
    client.emit('connectionReady', { address: '10.0.0.9:27017' });
    client.emit('serverHeartbeatSucceeded', { connectionId: ADDRESS });
    expect(health.available).to.equal(false);
  });

  it('stops listening when stopped (a client closing is not an outage)', () => {
    const { client, health, changes } = watch();
    health.stop();
    client.emit('topologyDescriptionChanged', { newDescription: topology('Unknown') });
    expect(changes).to.deep.equal([]);
    expect(client.listenerCount('topologyDescriptionChanged')).to.equal(0);
  });

  it('tells an unreachable database from an answer the database gave', () => {
    const { MongoNetworkError, MongoServerSelectionError, MongoServerError } = mongoose.mongo;
    expect(isDatabaseOutage(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'))).to.equal(true);
    expect(isDatabaseOutage(new MongoServerSelectionError('Server selection timed out', {} as never))).to.equal(true);
    expect(isDatabaseOutage(new MongoServerError({ message: 'The server is in quiesce mode and will shut down', code: 91 }))).to.equal(true);
    expect(isDatabaseOutage(new Error('wrapped', { cause: new MongoNetworkError('reset') }))).to.equal(true);
    expect(isDatabaseOutage(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }))).to.equal(false);
    expect(isDatabaseOutage(new Error('something else'))).to.equal(false);
    expect(isDatabaseOutage(null)).to.equal(false);
  });
});
