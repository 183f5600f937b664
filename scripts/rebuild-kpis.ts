/**
 * `npm run kpis:rebuild`: recomputes the contact-center figures (the
 * `kpi_conversations` facts, the `kpi_hourly` and `kpi_daily` buckets) from
 * the conversations and messages (server/reports/kpi-rebuild.ts says what is
 * read and what is kept). Run it after an upgrade that changes a definition,
 * after changing CLINIC_TIMEZONE or a team's hours, or when the live figures
 * missed something (a crash between a conversation's facts and its buckets).
 * Stop the hub first when it uses the embedded database; on MongoDB run it at
 * a quiet time (events during the rebuild may be counted off until the next
 * one). Idempotent; prints counts only.
 */
import { clinicDefaultHours } from '../server/routing/team-settings.ts';
import { rebuildKpis } from '../server/reports/kpi-rebuild.ts';
import { openHubDatabase } from './hub-database.ts';

const { config, db, close } = await openHubDatabase();
try {
  const started = Date.now();
  const report = await rebuildKpis(db.models, { defaultHours: clinicDefaultHours(config), timeZone: config.clinicTimeZone, now: new Date() });
  console.log(
    `contact-center figures rebuilt: ${report.conversations} conversations, ${report.hourlyBuckets} hour buckets, ${report.dailyBuckets} day buckets` +
      `${report.removed ? `, ${report.removed} facts of merged-away conversations removed` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
} finally {
  await close();
}
