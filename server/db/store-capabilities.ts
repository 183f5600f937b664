/**
 * What the database under the hub guarantees, asked once at connect.
 *
 * FerretDB answers `buildInfo` like MongoDB 7 but adds `ferretdbVersion`.
 * FerretDB 1.x applies an update as read, modify, write back without
 * isolating the three (FerretDB/FerretDB#3040), and its filters never use its
 * own indexes: on it the hub serializes writes per document in this process
 * (document-locks.ts), which only holds while one process writes. MongoDB
 * isolates every single-document update: there the locks are skipped and the
 * hub relies only on conditional single-document updates and unique indexes
 * (server/db/STORE-CONTRACT.md), which hold across any number of nodes.
 */
import type { mongo } from 'mongoose';

export interface StoreCapabilities {
  /** 'ferretdb' or 'mongodb' (anything that does not say it is FerretDB is taken at its word as MongoDB). */
  readonly engine: 'ferretdb' | 'mongodb';
  /** The server's own version string (FerretDB's, not the MongoDB version it imitates). */
  readonly version: string;
  /** Single-document updates are atomic and isolated, so conditions in a filter hold against concurrent writers. */
  readonly isolatedUpdates: boolean;
  /** Queries are served by indexes (on FerretDB 1.x every read scans the collection). */
  readonly indexedReads: boolean;
  /** Member of a replica set (needed for transactions and change streams on MongoDB). */
  readonly replicaSet: string | null;
}

interface BuildInfo {
  version?: string;
  ferretdbVersion?: string;
}

export async function detectStoreCapabilities(db: mongo.Db): Promise<StoreCapabilities> {
  const admin = db.admin();
  const [info, hello] = await Promise.all([
    admin.command({ buildInfo: 1 }) as Promise<BuildInfo>,
    admin.command({ hello: 1 }) as Promise<{ setName?: string }>,
  ]);
  return capabilitiesFrom(info, hello);
}

export function capabilitiesFrom(info: BuildInfo, hello: { setName?: string }): StoreCapabilities {
  const replicaSet = typeof hello.setName === 'string' ? hello.setName : null;
  if (typeof info.ferretdbVersion === 'string') {
    return { engine: 'ferretdb', version: info.ferretdbVersion, isolatedUpdates: false, indexedReads: false, replicaSet };
  }
  return { engine: 'mongodb', version: String(info.version ?? 'unknown'), isolatedUpdates: true, indexedReads: true, replicaSet };
}
