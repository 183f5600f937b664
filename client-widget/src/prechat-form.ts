/**
 * The pre-chat form (no stored token): name, optional phone and email, the
 * department when the clinic offers a choice (its team answers the chat),
 * the two consent checkboxes with the hub's exact wording. Errors, the form's
 * own and the hub's (`field`: name, phone, email), are shown beside the field.
 */
import type { WidgetConfig, WidgetVisitorResponse } from '../../server/realtime/widget-events.ts';
import { checkbox, el, field } from './dom.ts';
import { errorText, HubError, type HubApi } from './hub-api.ts';
import type { Locale } from './strings.ts';

export interface PrechatOptions {
  api: HubApi;
  config: WidgetConfig;
  locale: Locale;
  /** Shown above the form (e.g. "your chat has ended"). */
  notice?: string | null;
  started(response: WidgetVisitorResponse): void;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{6,}$/;

export function createPrechatForm(o: PrechatOptions): { element: HTMLElement; focus(): void } {
  const t = o.locale.t;
  const wording = o.config.consentWording[o.locale.lang];

  const name = field(t.name, el('input', { type: 'text', name: 'name', autocomplete: 'name', required: true, 'aria-required': 'true', maxlength: 200 }));
  const phone = field(t.phone, el('input', { type: 'tel', name: 'phone', autocomplete: 'tel', maxlength: 40 }));
  const email = field(t.email, el('input', { type: 'email', name: 'email', autocomplete: 'email', maxlength: 320 }));
  const departments = o.config.departments ?? [];
  const department = departments.length
    ? field(t.department, el('select', { name: 'department' }, el('option', { value: '' }, t.departmentAny), ...departments.map((d) => el('option', { value: d.id }, d.label))) as unknown as HTMLInputElement)
    : null;
  const smsConsent = checkbox(wording.sms);
  const emailConsent = checkbox(wording.email);
  const formError = el('p', { class: 'ct-error', role: 'alert' });
  const submit = el('button', { type: 'submit', class: 'ct-primary' }, t.startChat);
  const notice = o.notice ? el('p', { class: 'ct-notice', role: 'status' }, o.notice) : null;

  const form = el(
    'form',
    { class: 'ct-form', novalidate: true },
    notice,
    el('p', {}, t.prechatIntro(o.config.clinicName)),
    name.wrapper,
    phone.wrapper,
    email.wrapper,
    department?.wrapper ?? null,
    el('fieldset', { class: 'ct-fieldset' }, el('legend', {}, t.consentLegend), smsConsent.wrapper, emailConsent.wrapper),
    formError,
    submit,
    el('p', { class: 'ct-hint' }, t.emergency),
  );
  const fields = { name, phone, email };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    formError.textContent = '';
    const values = { name: name.input.value.trim(), phone: phone.input.value.trim(), email: email.input.value.trim() };
    const problems: [keyof typeof fields, string | null][] = [
      ['name', values.name ? null : t.nameRequired],
      ['phone', !values.phone || PHONE.test(values.phone) ? null : t.phoneInvalid],
      ['email', !values.email || EMAIL.test(values.email) ? null : t.emailInvalid],
    ];
    for (const [key, problem] of problems) fields[key].setError(problem);
    const first = problems.find(([, p]) => p);
    if (first) {
      fields[first[0]].input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t.starting;
    o.api
      .createVisitor({
        name: values.name,
        ...(values.phone ? { phone: values.phone } : {}),
        ...(values.email ? { email: values.email } : {}),
        consent: { sms: smsConsent.input.checked, email: emailConsent.input.checked },
        language: o.locale.lang,
        ...(department?.input.value ? { department: department.input.value } : {}),
      })
      .then(o.started, (err: unknown) => {
        submit.disabled = false;
        submit.textContent = t.startChat;
        const target = err instanceof HubError && err.field && err.field in fields ? fields[err.field as keyof typeof fields] : null;
        const message = errorText(err, t);
        if (target) {
          target.setError(message);
          target.input.focus();
        } else formError.textContent = message;
      });
  });

  return { element: form, focus: () => name.input.focus() };
}
