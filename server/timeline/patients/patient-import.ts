/**
 * Patients from a CSV file (an admin's upload, or `npm run patients:import`).
 *
 * The header names the columns (any order, any case): name (required),
 * date_of_birth, mrn, phone, email, preferred_channel, language, timezone,
 * team. Each row is checked like the registration form (patient-registry.ts);
 * a bad row is skipped and reported by line and column. A row whose phone,
 * email or MRN is already a patient's, or whose name and date of birth are,
 * is that patient: counted as `existing`, nothing about it written. So
 * running the same file twice changes nothing the second time.
 *
 * Batched for speed: the lookups read existing identities and patients by
 * their keys a chunk at a time, new patients and identities are inserted a
 * batch at a time, all under the registry lock (no form registers a patient
 * in between, in this process; across nodes identities and MRN claims are
 * unique by `_id`, and a row that loses one is skipped). Contacts are
 * asserted identities; nothing here gives consent.
 */
import { parse } from 'csv-parse/sync';
import type { IdentityDoc, PatientDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { newIdentityDoc } from '../ingest/resolve-identity.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { patientKeys, type PatientKeys } from './patient-keys.ts';
import { claimMrns, releaseMrn } from './patient-claims.ts';
import { cleanPatientFields, newRegisteredPatient, REGISTRY_LOCK, type CleanPatientFields, type PatientFields } from './patient-registry.ts';

export const IMPORT_COLUMNS = ['name', 'date_of_birth', 'mrn', 'phone', 'email', 'preferred_channel', 'language', 'timezone', 'team'] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

/** The form's fields as the file calls them, so a skipped row names its column. */
const COLUMN_OF: Record<keyof PatientFields, Column> = {
  name: 'name', dateOfBirth: 'date_of_birth', mrn: 'mrn', phone: 'phone', email: 'email',
  preferredChannel: 'preferred_channel', language: 'language', timezone: 'timezone',
};

export const MAX_IMPORT_ROWS = 50_000;
const LOOKUP_CHUNK = 2000;
/** Keys at least 1/8 of the collection's size: read the collection once rather than ask for each chunk. */
const WHOLE_COLLECTION_SHARE = 8;
const INSERT_BATCH = 1000;

export interface SkippedRow {
  /** The file's line (1 is the header). */
  line: number;
  /** The column at fault, or `row` (wrong number of values). */
  field: string;
  message: string;
}

export interface ImportReport {
  rows: number;
  created: number;
  existing: number;
  skipped: SkippedRow[];
}

export type ImportContext = Pick<TimelineContext, 'models' | 'cipher' | 'clock' | 'settings' | 'locks'>;

interface Row {
  line: number;
  clean: CleanPatientFields;
  keys: PatientKeys;
  teamId: string;
}

export async function importPatients(
  ctx: ImportContext,
  csv: string,
  options: { defaultTeamId: string; createdBy: string | null },
): Promise<ImportReport> {
  const records = readCsv(csv);
  const columns = readHeader(records[0]);
  const body = records.slice(1);
  if (body.length > MAX_IMPORT_ROWS) {
    throw new AppError('INVALID_INPUT', `file: at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows per import; split the file`, { field: 'file' });
  }
  const teams = new Set((await ctx.models.Team.find({}, { _id: 1 }).lean()).map((t) => t._id));
  const report: ImportReport = { rows: body.length, created: 0, existing: 0, skipped: [] };
  const rows: Row[] = [];
  for (const { values, line } of body) {
    const row = checkRow(ctx, columns, values, line, teams, options.defaultTeamId);
    if ('field' in row) report.skipped.push(row);
    else rows.push(row);
  }
  await ctx.locks.run(REGISTRY_LOCK, () => store(ctx, rows, report, options.createdBy));
  report.skipped.sort((a, b) => a.line - b.line);
  return report;
}

function checkRow(ctx: ImportContext, columns: Column[], values: string[], line: number, teams: Set<string>, defaultTeamId: string): Row | SkippedRow {
  if (values.length !== columns.length) {
    return { line, field: 'row', message: `expected ${columns.length} values, found ${values.length}` };
  }
  const cell: Partial<Record<Column, string>> = {};
  columns.forEach((column, i) => {
    if (values[i] !== '') cell[column] = values[i];
  });
  try {
    const clean = cleanPatientFields(
      ctx,
      {
        name: cell.name ?? '',
        dateOfBirth: cell.date_of_birth, mrn: cell.mrn, phone: cell.phone, email: cell.email,
        preferredChannel: cell.preferred_channel?.toLowerCase() as PatientFields['preferredChannel'],
        language: cell.language, timezone: cell.timezone,
      },
      COLUMN_OF,
    );
    const teamId = cell.team ?? defaultTeamId;
    if (cell.team && !teams.has(teamId)) return { line, field: 'team', message: 'no such team id' };
    return { line, clean, keys: patientKeys(ctx.cipher, { name: clean.name!, dateOfBirth: clean.dateOfBirth ?? null, mrn: clean.mrn ?? null }), teamId };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const field = error.details.field ?? 'row';
    return { line, field, message: error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message };
  }
}

/** Matches each row against what exists (and the rows before it), then inserts the new ones. */
async function store(ctx: ImportContext, rows: Row[], report: ImportReport, createdBy: string | null): Promise<void> {
  const owners = await existingOwners(ctx, rows);
  const patients: PatientDoc[] = [];
  const identities: IdentityDoc[] = [];
  const rowOf = new Map<string, Row>();
  for (const row of rows) {
    const probes = [
      ['phone', row.clean.phone?.id],
      ['email', row.clean.email?.id],
      ['mrn', row.keys.mrnKey && `mrn:${row.keys.mrnKey}`],
    ] as const;
    const matched = probes.flatMap(([field, key]) => (key && owners.has(key) ? [{ field, owner: owners.get(key)! }] : []));
    const other = matched.find((m) => m.owner !== matched[0]!.owner);
    if (other) {
      report.skipped.push({ line: row.line, field: other.field, message: `belongs to another patient than this row’s ${matched[0]!.field}` });
      continue;
    }
    if (matched.length > 0 || (row.keys.nameDobKey && owners.has(`name_dob:${row.keys.nameDobKey}`))) {
      report.existing++;
      continue;
    }
    const patient = newRegisteredPatient(ctx, row.clean, row.keys, { teamId: row.teamId, createdBy });
    patients.push(patient);
    rowOf.set(patient._id, row);
    for (const kind of ['phone', 'email'] as const) {
      const contact = row.clean[kind];
      if (!contact) continue;
      identities.push(newIdentityDoc(ctx, contact.id, { kind, value: contact.value }, patient._id, 'agent_entered'));
      owners.set(contact.id, patient._id);
    }
    if (row.keys.mrnKey) owners.set(`mrn:${row.keys.mrnKey}`, patient._id);
    if (row.keys.nameDobKey) owners.set(`name_dob:${row.keys.nameDobKey}`, patient._id);
  }
  // MRNs are claimed first (patient-claims.ts): a row whose MRN another node gave a patient during the import is not created.
  const lost = await claimMrns(ctx, patients.flatMap((p) => (p.mrnKey ? [{ patientId: p._id, mrnKey: p.mrnKey }] : [])));
  for (const patientId of lost) {
    report.skipped.push({ line: rowOf.get(patientId)!.line, field: 'mrn', message: 'belongs to another patient (registered during the import)' });
  }
  const kept = patients.filter((p) => !lost.has(p._id));
  for (let i = 0; i < kept.length; i += INSERT_BATCH) {
    await ctx.models.Patient.insertMany(kept.slice(i, i + INSERT_BATCH), { ordered: false, lean: true });
  }
  const keptIdentities = identities.filter((identity) => !lost.has(identity.patientId));
  /** Patients stored, then dropped because an identity of theirs was taken meanwhile. */
  const dropped = new Set<string>();
  for (let i = 0; i < keptIdentities.length; i += INSERT_BATCH) {
    const batch = keptIdentities.slice(i, i + INSERT_BATCH);
    await ctx.models.Identity.insertMany(batch, { ordered: false, lean: true }).catch((error: { writeErrors?: { index?: number; err?: { index?: number } }[] }) => {
      if (!error.writeErrors) throw error;
      // An inbound message took the address during the import: that row's patient is not created.
      for (const failure of error.writeErrors) {
        const identity = batch[failure.index ?? failure.err?.index ?? -1];
        if (!identity) throw error;
        lost.add(identity.patientId);
        dropped.add(identity.patientId);
        const row = rowOf.get(identity.patientId)!;
        report.skipped.push({ line: row.line, field: identity.kind, message: 'belongs to another patient (it wrote in during the import)' });
      }
    });
  }
  for (const patientId of dropped) {
    await ctx.models.Identity.deleteMany({ patientId });
    await ctx.models.Patient.deleteOne({ _id: patientId });
    await releaseMrn(ctx, patientId, rowOf.get(patientId)!.keys.mrnKey);
  }
  report.created = patients.length - lost.size;
}

/**
 * Who already owns each row's phone, email (identity `_id`), MRN and name
 * with date of birth (`mrn:<key>`, `name_dob:<key>`). A file that is a large
 * share of the collection reads it once (keys and owners only); a small one
 * asks for its keys a chunk at a time (each chunk is one scan on FerretDB,
 * which pushes no `$in` down; an index lookup per key on MongoDB).
 */
async function existingOwners(ctx: ImportContext, rows: Row[]): Promise<Map<string, string>> {
  const { models } = ctx;
  const owners = new Map<string, string>();
  const identityIds = [...new Set(rows.flatMap((r) => [r.clean.phone?.id, r.clean.email?.id].filter((id): id is string => Boolean(id))))];
  const wholeIdentities = identityIds.length * WHOLE_COLLECTION_SHARE >= (await models.Identity.estimatedDocumentCount());
  const identityChunks = wholeIdentities ? [null] : chunks(identityIds);
  for (const chunk of identityIds.length ? identityChunks : []) {
    const found = await models.Identity.find(chunk ? { _id: { $in: chunk } } : {}, { patientId: 1 }).lean();
    for (const identity of found) owners.set(identity._id, identity.patientId);
  }
  const mrnKeys = [...new Set(rows.map((r) => r.keys.mrnKey).filter((k): k is string => Boolean(k)))];
  const nameDobKeys = [...new Set(rows.map((r) => r.keys.nameDobKey).filter((k): k is string => Boolean(k)))];
  const keys = mrnKeys.length + nameDobKeys.length;
  const wholePatients = keys * WHOLE_COLLECTION_SHARE >= (await models.Patient.estimatedDocumentCount());
  const filters = wholePatients
    ? [{}]
    : [...chunks(mrnKeys).map((chunk) => ({ mrnKey: { $in: chunk } })), ...chunks(nameDobKeys).map((chunk) => ({ nameDobKey: { $in: chunk } }))];
  for (const filter of keys ? filters : []) {
    for (const patient of await models.Patient.find(filter, { _id: 1, mrnKey: 1, nameDobKey: 1, mergedInto: 1 }).lean()) {
      if (patient.mergedInto) continue;
      if (patient.mrnKey) owners.set(`mrn:${patient.mrnKey}`, patient._id);
      if (patient.nameDobKey) owners.set(`name_dob:${patient.nameDobKey}`, patient._id);
    }
  }
  return owners;
}

function chunks<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / LOOKUP_CHUNK) }, (_, i) => items.slice(i * LOOKUP_CHUNK, (i + 1) * LOOKUP_CHUNK));
}

/** Records with the line each starts on; a file that is not CSV at all is a 400 naming its line. */
function readCsv(csv: string): { values: string[]; line: number }[] {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(csv, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof parsed;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new AppError('INVALID_INPUT', `file: not valid CSV${line ? ` (line ${line})` : ''}: ${(error as { code?: string }).code ?? 'unreadable'}`, { field: 'file' });
  }
  if (parsed.length === 0) throw new AppError('INVALID_INPUT', 'file: empty; the first line names the columns', { field: 'file' });
  // `info.lines` is where a record ends; a quoted line break inside it started it earlier.
  return parsed.map(({ record, info }) => ({ values: record, line: info.lines - record.reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0) }));
}

function readHeader(header: { values: string[] } | undefined): Column[] {
  const names = (header?.values ?? []).map((v) => v.trim().toLowerCase());
  // Named by position, not echoed: a file without a header would have a patient's details there.
  const unknown = names.findIndex((n) => !(IMPORT_COLUMNS as readonly string[]).includes(n));
  if (unknown >= 0) {
    throw new AppError('INVALID_INPUT', `header: column ${unknown + 1} of the first line is not one of ${IMPORT_COLUMNS.join(', ')}`, { field: 'header' });
  }
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new AppError('INVALID_INPUT', `header: column "${repeated}" appears twice`, { field: 'header' });
  if (!names.includes('name')) throw new AppError('INVALID_INPUT', 'header: the "name" column is required', { field: 'header' });
  return names as Column[];
}
