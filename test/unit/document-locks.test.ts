import { expect } from 'chai';
import { DocumentLocks, LockOrderError } from '../../server/db/document-locks.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('per-document locks', () => {
  it('runs the work of one key one at a time, in call order, and different keys side by side', async () => {
    const locks = new DocumentLocks();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = locks.run('message:1', async () => {
      order.push('first start');
      await gate;
      order.push('first end');
    });
    const second = locks.run('message:1', async () => void order.push('second'));
    const other = locks.run('message:2', async () => void order.push('other key'));
    await other;
    expect(order).to.deep.equal(['first start', 'other key']);
    release();
    await Promise.all([first, second]);
    expect(order).to.deep.equal(['first start', 'other key', 'first end', 'second']);
    expect(locks.size).to.equal(0);
  });

  it('lets a flow that holds a key take it again (a write inside its own read-modify-write section)', async () => {
    const locks = new DocumentLocks();
    const value = await locks.run('conversation:1', () => locks.run('conversation:1', async () => 42));
    expect(value).to.equal(42);
  });

  it('refuses at once, instead of hanging, a lock taken against the rank order', async () => {
    const locks = new DocumentLocks();
    let error: unknown;
    await locks.run('conversation:1', () => locks.run('patient:1', async () => 'never')).catch((e) => (error = e));
    expect(error).to.be.instanceOf(LockOrderError);
    expect((error as Error).message).to.include('"patient:1" requested while holding "conversation:1"');
    // The right order is fine, and so is a leaf document inside either.
    expect(await locks.run('patient:1', () => locks.run('conversation:1', () => locks.run('identity:x', async () => 'ok')))).to.equal('ok');
  });

  it('does not let a callback that outlives a lock skip the queue for it', async () => {
    const locks = new DocumentLocks();
    let later!: Promise<string>;
    await locks.run('message:1', async () => {
      // Started inside the lock, runs after it is released (like a worker woken by a reply).
      later = new Promise((resolve) => setTimeout(() => resolve(locks.run('message:1', async () => 'late')), 5));
    });
    const order: string[] = [];
    let release!: () => void;
    const holder = locks.run('message:1', async () => {
      await new Promise<void>((r) => (release = r));
      order.push('holder');
    });
    const late = later.then((v) => order.push(v));
    await new Promise((r) => setTimeout(r, 20));
    await tick();
    expect(order).to.deep.equal([]);
    release();
    await Promise.all([holder, late]);
    expect(order).to.deep.equal(['holder', 'late']);
  });

  it('on a store that isolates updates (MongoDB) runs work at once, still refusing a lock taken against the rank order', async () => {
    const locks = new DocumentLocks(false);
    const order: string[] = [];
    let release!: () => void;
    const first = locks.run('message:1', async () => {
      order.push('first start');
      await new Promise<void>((r) => (release = r));
      order.push('first end');
    });
    await locks.run('message:1', async () => void order.push('second'));
    expect(order).to.deep.equal(['first start', 'second']);
    release();
    await first;
    let error: unknown;
    await locks.run('conversation:1', () => locks.run('patient:1', async () => 'never')).catch((e) => (error = e));
    expect(error).to.be.instanceOf(LockOrderError);
  });
});
