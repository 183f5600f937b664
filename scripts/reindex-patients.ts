/**
 * `npm run patients:reindex`: recomputes every patient's search keys
 * (server/timeline/patients/patient-keys.ts) from its sealed name, date of
 * birth and MRN. Run once after upgrading to patient search (patients named
 * before it have no keys) and after changing PHI_BLIND_INDEX_KEY. Stop the hub
 * first when it uses the embedded database. Idempotent; prints counts only.
 */
import { PhiCipher } from '../server/crypto/phi-cipher.ts';
import { reindexPatients } from '../server/timeline/patients/patient-keys.ts';
import { openHubDatabase } from './hub-database.ts';

const { config, db, close } = await openHubDatabase();
try {
  const report = await reindexPatients(db.models, new PhiCipher(config.phiKeys, config.blindIndexKey));
  console.log(`search keys: ${report.updated} of ${report.scanned} patients updated`);
} finally {
  await close();
}
