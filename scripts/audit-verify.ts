/** `npm run audit:verify`: walks the audit trail's hash chain; exit code 1 when it is broken. */
import { verifyAuditChain } from '../server/audit/audit-log.ts';
import { openHubDatabase } from './hub-database.ts';

const { config, db, close } = await openHubDatabase();
try {
  const report = await verifyAuditChain(db.models, config.auditKeys);
  if (report.ok) {
    console.log(`audit trail intact: ${report.checked} entries checked`);
  } else {
    console.error(`audit trail BROKEN at entry ${report.firstBrokenAt}: ${report.problem} (${report.checked} entries before it are intact)`);
    process.exitCode = 1;
  }
} finally {
  await close();
}
