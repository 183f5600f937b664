/**
 * `npm run keys:rotate`: re-encrypts all PHI under the first key of
 * PHI_ENCRYPTION_KEY. Rotation: put the new key first (`new:<b64>,old:<b64>`),
 * restart the hubs, run this, then remove the old key.
 */
import { AuditLog } from '../server/audit/audit-log.ts';
import { PhiCipher } from '../server/crypto/phi-cipher.ts';
import { rotatePhiKeys } from '../server/crypto/rotate-keys.ts';
import { createLogger } from '../server/logger.ts';
import { openHubDatabase } from './hub-database.ts';

const { config, db, close } = await openHubDatabase();
try {
  const cipher = new PhiCipher(config.phiKeys, config.blindIndexKey);
  const report = await rotatePhiKeys(db.models, cipher);
  const logger = createLogger({ level: 'warn' });
  await new AuditLog(db.models, () => new Date(), logger).record({
    action: 'keys.rotate', via: 'cli', details: { key: config.phiKeys[0]!.id, rewritten: report.rewritten },
  });
  console.log(`re-encrypted ${report.rewritten} of ${report.scanned} documents under key "${config.phiKeys[0]!.id}":`, report.byCollection);
} finally {
  await close();
}
