/**
 * Re-encrypts every sealed PHI value under the current (first) key of
 * PHI_ENCRYPTION_KEY, so an old key can then be removed from the list.
 * Each document is rewritten only if it still holds the value that was read
 * (compare-and-set), so a value changed meanwhile is never overwritten.
 */
import type { Model } from 'mongoose';
import type { Models } from '../db/models.ts';
import type { PhiCipher } from './phi-cipher.ts';

interface SealedFields {
  model: Model<any>;
  /** Top-level sealed string fields. */
  fields: string[];
  /** Arrays of sub-documents with a sealed field. */
  arrays?: { path: string; field: string }[];
}

export interface RotationReport {
  scanned: number;
  rewritten: number;
  byCollection: Record<string, number>;
}

export async function rotatePhiKeys(models: Models, cipher: PhiCipher): Promise<RotationReport> {
  const targets: SealedFields[] = [
    { model: models.Patient, fields: ['nameEnc', 'dateOfBirthEnc', 'mrnEnc'] },
    { model: models.Identity, fields: ['valueEnc'] },
    { model: models.Conversation, fields: ['previewEnc', 'patientNameEnc'] },
    { model: models.Message, fields: ['bodyEnc'], arrays: [{ path: 'attachments', field: 'nameEnc' }] },
    { model: models.Agent, fields: ['totpSecretEnc'] },
    { model: models.DevOutbox, fields: ['requestEnc'] },
    { model: models.AttachmentBlob, fields: ['dataEnc'] },
  ];
  const report: RotationReport = { scanned: 0, rewritten: 0, byCollection: {} };
  for (const target of targets) {
    let rewritten = 0;
    for await (const doc of target.model.find().lean().cursor()) {
      report.scanned++;
      const record = doc as Record<string, unknown>;
      const set: Record<string, unknown> = {};
      const expect: Record<string, unknown> = {};
      for (const field of target.fields) {
        const value = record[field];
        if (typeof value === 'string' && cipher.needsRotation(value)) {
          set[field] = cipher.reseal(value);
          expect[field] = value;
        }
      }
      for (const { path, field } of target.arrays ?? []) {
        const items = record[path] as Record<string, unknown>[] | undefined;
        if (items?.some((i) => typeof i[field] === 'string' && cipher.needsRotation(i[field] as string))) {
          set[path] = items.map((i) => (typeof i[field] === 'string' ? { ...i, [field]: cipher.reseal(i[field] as string) } : i));
        }
      }
      if (Object.keys(set).length === 0) continue;
      const result = await target.model.updateOne({ _id: record._id, ...expect }, { $set: set });
      rewritten += result.modifiedCount;
    }
    report.byCollection[target.model.collection.collectionName] = rewritten;
    report.rewritten += rewritten;
  }
  return report;
}
