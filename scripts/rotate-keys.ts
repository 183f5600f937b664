/**
 * `npm run keys:rotate`: re-encrypts all PHI under the first key of
 * PHI_ENCRYPTION_KEY. Rotation: put the new key first (`new:<b64>,old:<b64>`),
 * restart the hubs, run this, then remove the old key.
 *
 * The audit chain's key (AUDIT_CHAIN_KEY) rotates the same way but keeps its
 * old keys: put the new one first; this run's audit entry is the first signed
 * with it; older entries stay verifiable as long as their key stays listed.
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
  await new AuditLog(db.models, () => new Date(), logger, config.auditKeys).record({
    action: 'keys.rotate', via: 'cli', details: { key: config.phiKeys[0]!.id, auditKey: config.auditKeys[0]!.id, rewritten: report.rewritten },
  });
  console.log(`re-encrypted ${report.rewritten} of ${report.scanned} documents under key "${config.phiKeys[0]!.id}":`, report.byCollection);
} finally {
  await close();
}
