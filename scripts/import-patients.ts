/**
 * `npm run patients:import -- patients.csv [--team <id>]`
 *
 * Imports patients from a CSV file into the hub's database (the embedded
 * FerretDB under DATA_DIR unless MONGODB_URI is set; stop the hub first when
 * it uses the embedded database), as POST /api/patients/import does:
 * columns name, date_of_birth, mrn, phone, email, preferred_channel,
 * language, timezone, team (server/timeline/patients/patient-import.ts).
 * Rows that match a patient change nothing, so a second run of the same file
 * creates nobody. Prints counts and the skipped rows by line and column,
 * never a patient's details.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AuditLog } from '../server/audit/audit-log.ts';
import { DEFAULT_TEAM, ensureTeam } from '../server/auth/agent-directory.ts';
import { ConfigError } from '../server/config.ts';
import { PhiCipher } from '../server/crypto/phi-cipher.ts';
import { AppError } from '../server/errors.ts';
import { createLogger } from '../server/logger.ts';
import { importPatients } from '../server/timeline/patients/patient-import.ts';
import { openHubDatabase } from './hub-database.ts';

const USAGE = `Usage: npm run patients:import -- <file.csv> [--team <id>]

  <file.csv>  UTF-8 CSV; the first line names the columns: name (required),
              date_of_birth, mrn, phone, email, preferred_channel, language,
              timezone, team
  --team      the team of rows without one (default: ${DEFAULT_TEAM.id})`;

async function main(): Promise<number> {
  let file: string;
  let team: string;
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      options: { team: { type: 'string', default: DEFAULT_TEAM.id }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      console.error(`patients:import: give one CSV file\n\n${USAGE}`);
      return 1;
    }
    file = positionals[0]!;
    team = values.team!;
  } catch (error) {
    console.error(`patients:import: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }

  let csv: string;
  try {
    csv = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  } catch (error) {
    console.error(`patients:import: cannot read ${file} as UTF-8 text: ${(error as NodeJS.ErrnoException).code ?? 'not UTF-8'}`);
    return 1;
  }

  let opened: Awaited<ReturnType<typeof openHubDatabase>>;
  try {
    opened = await openHubDatabase();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`patients:import cannot start.\n${error.message}`);
      return 1;
    }
    throw error;
  }
  const { config, db, close } = opened;
  try {
    const clock = () => new Date();
    if (team === DEFAULT_TEAM.id) await ensureTeam(db.models, DEFAULT_TEAM.id, DEFAULT_TEAM.name, clock());
    else if (!(await db.models.Team.exists({ _id: team }))) {
      console.error(`patients:import: no team "${team}"`);
      return 1;
    }
    const ctx = {
      models: db.models,
      locks: db.locks,
      cipher: new PhiCipher(config.phiKeys, config.blindIndexKey),
      clock,
      settings: { defaultPhoneRegion: config.defaultPhoneRegion, reopenWindowMs: config.reopenWindowMs, defaultTeamId: DEFAULT_TEAM.id },
    };
    const startedAt = performance.now();
    const report = await importPatients(ctx, csv, { defaultTeamId: team, createdBy: null });
    const seconds = (performance.now() - startedAt) / 1000;
    await new AuditLog(db.models, clock, createLogger({ level: 'warn' }), config.auditKeys).record({
      action: 'patient.import', via: 'cli', details: { rows: report.rows, created: report.created, existing: report.existing, skipped: report.skipped.length },
    });
    console.log(`${report.rows} rows in ${seconds.toFixed(1)} s: ${report.created} created, ${report.existing} existing, ${report.skipped.length} skipped`);
    for (const row of report.skipped) console.log(`  line ${row.line}, ${row.field}: ${row.message}`);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      console.error(`patients:import: ${error.message}`);
      return 1;
    }
    console.error(`patients:import failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await close();
  }
}

process.exit(await main());
