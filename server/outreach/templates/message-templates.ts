/**
 * Named message templates: the clinic's own (`message_templates`, edited by
 * supervisors and admins, no PHI: templates, not messages) over the built-in
 * defaults (default-templates.ts), and the one function that turns a
 * template (or a plain body) into the text a patient receives: the same for
 * the preview an agent sees and for the message that is scheduled.
 */
import { z } from 'zod';
import { describeSmsBody, type SmsBodyFacts } from '../../../channels/sms/segments.ts';
import type { MessageTemplateDoc } from '../../db/documents.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Models } from '../../db/models.ts';
import { DEFAULT_TEMPLATES, SCHEDULED_KINDS, type ScheduledKind, type TemplateDefinition } from './default-templates.ts';
import {
  checkGivenAreUsed, fillTemplate, LINK_PLACEHOLDER, placeholdersOf, TEMPLATE_LANGUAGES,
  type GivenVariables, type TemplateLanguage, type TemplateVariable,
} from './template-text.ts';

export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
const MAX_BODY = 1600;

const perLanguage = (max: number) =>
  z.object(Object.fromEntries(TEMPLATE_LANGUAGES.map((l) => [l, z.string().trim().min(1).max(max).optional()])) as Record<TemplateLanguage, z.ZodOptional<z.ZodString>>).strict();

export const templateInputSchema = z.object({
  kind: z.enum(SCHEDULED_KINDS),
  description: z.string().trim().max(200).default(''),
  bodies: perLanguage(MAX_BODY),
  phiFreeBodies: perLanguage(MAX_BODY).default({}),
  subjects: perLanguage(150).default({}),
  expectsReply: z.boolean().default(false),
});
export type TemplateInput = z.infer<typeof templateInputSchema>;

export interface TemplateRecord extends TemplateDefinition {
  builtIn: boolean;
  /** The variables its texts use. */
  variables: TemplateVariable[];
  updatedAt: string | null;
}

/** What a template or a body renders to for one patient. */
export interface RenderedMessage {
  template: string | null;
  kind: ScheduledKind;
  language: TemplateLanguage;
  /** The PHI-free variant was used (PHI_SAFE_NOTIFICATIONS). */
  phiFree: boolean;
  /** With `{{link}}` still in it: the link is made when the message goes out. */
  body: string;
  subject: string | null;
  expectsReply: boolean;
}

export interface RenderRequest {
  template?: string | undefined;
  body?: string | undefined;
  kind: ScheduledKind;
  given: GivenVariables;
  patientName: string | null;
  patientLanguage: string | null | undefined;
  timeZone: string;
  /** A body given as is, not a template: its own reply expectation. */
  expectsReply?: boolean | undefined;
}

export class MessageTemplates {
  constructor(
    private readonly models: Models,
    private readonly settings: { clinicName: string; clinicLanguage: TemplateLanguage; phiSafe: boolean },
  ) {}

  async list(): Promise<TemplateRecord[]> {
    const stored = await this.models.MessageTemplate.find({}).lean();
    const byName = new Map<string, TemplateRecord>(DEFAULT_TEMPLATES.map((t) => [t.name, record(t, true, null)]));
    for (const doc of stored) byName.set(doc._id, record(fromDoc(doc), false, doc.updatedAt));
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<TemplateRecord> {
    const doc = await this.models.MessageTemplate.findById(name).lean();
    if (doc) return record(fromDoc(doc), false, doc.updatedAt);
    const builtIn = DEFAULT_TEMPLATES.find((t) => t.name === name);
    if (!builtIn) throw new AppError('INVALID_INPUT', `template: no template named "${name}"`, { field: 'template' });
    return record(builtIn, true, null);
  }

  /** Checks every text (the 400 names the field and the variable) and stores the template under its name. */
  async save(name: string, input: TemplateInput, agentId: string, now: Date): Promise<TemplateRecord> {
    if (!TEMPLATE_NAME.test(name)) throw new AppError('INVALID_INPUT', 'name: lowercase letters, digits, _ and -, up to 48', { field: 'name' });
    const definition: TemplateDefinition = { name, ...input };
    checkDefinition(definition);
    const doc: MessageTemplateDoc = {
      _id: name, kind: input.kind, description: input.description, bodies: input.bodies, phiFreeBodies: input.phiFreeBodies,
      subjects: input.subjects, expectsReply: input.expectsReply, updatedBy: agentId, updatedAt: now,
    };
    await this.models.MessageTemplate.replaceOne({ _id: name }, doc, { upsert: true });
    return record(definition, false, now);
  }

  /** Deletes the clinic's template; a built-in one of that name comes back. */
  async remove(name: string): Promise<void> {
    const removed = await this.models.MessageTemplate.deleteOne({ _id: name });
    if (removed.deletedCount === 0) throw notFound('Template');
  }

  /**
   * The message one patient would get: the template's text in the patient's
   * language (else the clinic's, else the first it has), its PHI-free variant
   * when PHI_SAFE_NOTIFICATIONS is on, every variable filled but the link.
   */
  async render(request: RenderRequest): Promise<RenderedMessage> {
    if ((request.template === undefined) === (request.body === undefined)) {
      throw new AppError('INVALID_INPUT', 'template: give a template name or a body, not both', { field: 'template' });
    }
    if (request.body !== undefined) return this.renderBody(request, request.body);
    const template = await this.get(request.template!);
    const phiFree = this.settings.phiSafe;
    const texts = phiFree ? template.phiFreeBodies : template.bodies;
    const language = pickLanguage(texts, request.patientLanguage, this.settings.clinicLanguage);
    if (!language) {
      throw new AppError('INVALID_INPUT', `template: "${template.name}" has no PHI-free variant, which PHI_SAFE_NOTIFICATIONS requires`, { field: 'template' });
    }
    const field = `${phiFree ? 'phiFreeBodies' : 'bodies'}.${language}`;
    checkGivenAreUsed(request.given, new Set(placeholdersOf(texts[language]!, field, { phiFree })));
    const context = { language, timeZone: request.timeZone, clinicName: this.settings.clinicName, patientName: request.patientName, given: request.given };
    return {
      template: template.name,
      kind: template.kind,
      language,
      phiFree,
      body: fillTemplate(texts[language]!, field, context, { phiFree }),
      subject: template.subjects[language] ?? template.subjects[this.settings.clinicLanguage] ?? null,
      expectsReply: template.expectsReply,
    };
  }

  /** A body written for this message: the same variables (so "{{firstName}}" works), never PHI when PHI-safe. */
  private renderBody(request: RenderRequest, body: string): RenderedMessage {
    if (this.settings.phiSafe) {
      throw new AppError('INVALID_INPUT', 'body: PHI_SAFE_NOTIFICATIONS is on; schedule a template with a PHI-free variant instead of a body', { field: 'body' });
    }
    const language = pickLanguage({ [this.settings.clinicLanguage]: body }, request.patientLanguage, this.settings.clinicLanguage)!;
    checkGivenAreUsed(request.given, new Set(placeholdersOf(body, 'body', { phiFree: false })));
    const context = { language, timeZone: request.timeZone, clinicName: this.settings.clinicName, patientName: request.patientName, given: request.given };
    return { template: null, kind: request.kind, language, phiFree: false, body: fillTemplate(body, 'body', context, { phiFree: false }), subject: null, expectsReply: request.expectsReply ?? false };
  }
}

/** SMS facts of a rendered body, counting the link as the hub will write it (its length is known in advance). */
export function smsFacts(body: string, sampleLink: string): SmsBodyFacts {
  return describeSmsBody(body.split(LINK_PLACEHOLDER).join(sampleLink));
}

function pickLanguage(texts: Partial<Record<TemplateLanguage, string>>, patient: string | null | undefined, clinic: TemplateLanguage): TemplateLanguage | null {
  const primary = (patient ?? '').trim().toLowerCase().split(/[-_]/)[0] as TemplateLanguage;
  for (const candidate of [primary, clinic, ...TEMPLATE_LANGUAGES]) if (texts[candidate]) return candidate;
  return null;
}

function checkDefinition(t: TemplateDefinition): void {
  if (!Object.values(t.bodies).some(Boolean)) throw new AppError('INVALID_INPUT', 'bodies: give the text in at least one language (en, es, it)', { field: 'bodies' });
  for (const language of TEMPLATE_LANGUAGES) {
    if (t.bodies[language]) placeholdersOf(t.bodies[language]!, `bodies.${language}`, { phiFree: false });
    if (t.phiFreeBodies[language]) placeholdersOf(t.phiFreeBodies[language]!, `phiFreeBodies.${language}`, { phiFree: true });
    const subject = t.subjects[language];
    if (subject && /\{\{|\}\}/.test(subject)) throw new AppError('INVALID_INPUT', `subjects.${language}: a subject takes no variables (it shows in mailbox lists)`, { field: `subjects.${language}` });
  }
}

function fromDoc(doc: MessageTemplateDoc): TemplateDefinition {
  return { name: doc._id, kind: doc.kind, description: doc.description, bodies: doc.bodies, phiFreeBodies: doc.phiFreeBodies ?? {}, subjects: doc.subjects ?? {}, expectsReply: doc.expectsReply };
}

function record(t: TemplateDefinition, builtIn: boolean, updatedAt: Date | null): TemplateRecord {
  const variables = new Set<TemplateVariable>();
  for (const text of [...Object.values(t.bodies), ...Object.values(t.phiFreeBodies)]) {
    for (const v of placeholdersOf(text!, 'body', { phiFree: false })) variables.add(v);
  }
  return { ...t, builtIn, variables: [...variables], updatedAt: updatedAt ? new Date(updatedAt).toISOString() : null };
}
