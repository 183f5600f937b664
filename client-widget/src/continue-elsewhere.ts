/**
 * "Continue by text message / by email": the patient proves a phone or an
 * address with a one-time code (verify:start, then verify:confirm). On
 * success the hub links the visitor and sends a new `session` with the
 * whole thread.
 */
import type { WidgetConfig } from '../../server/realtime/widget-events.ts';
import type { Connection } from './connection.ts';
import { checkbox, el, field } from './dom.ts';
import { readableError } from './hub-api.ts';
import type { Locale } from './strings.ts';

export interface ContinueOptions {
  channel: 'sms' | 'email';
  locale: Locale;
  config: WidgetConfig;
  connection: Connection;
  prefill: string | null;
  back(): void;
}

export function createContinueForm(o: ContinueOptions): { element: HTMLElement; focus(): void } {
  const t = o.locale.t;
  const sms = o.channel === 'sms';
  const wording = o.config.consentWording[o.locale.lang];

  const address = field(
    sms ? t.phoneAddress : t.emailAddress,
    el('input', sms ? { type: 'tel', autocomplete: 'tel', maxlength: 40 } : { type: 'email', autocomplete: 'email', maxlength: 320 }),
  );
  address.input.value = o.prefill ?? '';
  const consent = checkbox(sms ? wording.sms : wording.email);
  const sendCode = el('button', { type: 'submit', class: 'ct-primary' }, t.sendCode);
  const startError = el('p', { class: 'ct-error', role: 'alert' });

  const code = field(t.code, el('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 12 }));
  const sentNote = el('p', { role: 'status' });
  const verify = el('button', { type: 'submit', class: 'ct-primary' }, t.verify);
  const codeForm = el('form', { class: 'ct-form', novalidate: true, hidden: true }, sentNote, code.wrapper, verify);

  const done = el('p', { class: 'ct-notice', role: 'status', tabindex: -1, hidden: true });
  const back = el('button', { type: 'button', class: 'ct-secondary' }, t.backToChat);
  back.addEventListener('click', o.back);

  const startForm = el(
    'form',
    { class: 'ct-form', novalidate: true },
    el('h3', {}, sms ? t.continueSms : t.continueEmail),
    el('p', {}, sms ? t.continueIntroSms : t.continueIntroEmail),
    address.wrapper,
    consent.wrapper,
    startError,
    sendCode,
  );

  startForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (sendCode.disabled) return;
    const value = address.input.value.trim();
    address.setError(value ? null : sms ? t.phoneRequired : t.emailRequired);
    consent.setError(consent.input.checked ? null : sms ? t.consentNeededSms : t.consentNeededEmail);
    startError.textContent = '';
    if (!value) return address.input.focus();
    if (!consent.input.checked) return consent.input.focus();
    sendCode.disabled = true;
    void o.connection.verifyStart(o.channel, value, o.locale.lang).then((answer) => {
      sendCode.disabled = false;
      if (!answer) {
        startError.textContent = t.notConnected;
        return;
      }
      if (!answer.ok) {
        const message = readableError(answer.error.message, answer.error.field);
        const target = answer.error.field === 'address' ? address : answer.error.field === 'consent' ? consent : null;
        if (target) {
          target.setError(message);
          target.input.focus();
        } else startError.textContent = message;
        return;
      }
      sentNote.textContent = t.codeSent(answer.sentTo);
      sentTo = answer.sentTo;
      code.setError(null);
      codeForm.hidden = false;
      code.input.value = '';
      code.input.focus();
    });
  });

  let sentTo = '';
  codeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (verify.disabled) return;
    const value = code.input.value.replace(/\s+/g, '');
    code.setError(value ? null : t.codeRequired);
    if (!value) return code.input.focus();
    verify.disabled = true;
    void o.connection.verifyConfirm(value).then((answer) => {
      verify.disabled = false;
      if (!answer || !answer.ok) {
        code.setError(answer ? readableError(answer.error.message, answer.error.field) : t.notConnected);
        code.input.focus();
        return;
      }
      startForm.hidden = true;
      codeForm.hidden = true;
      done.textContent = sms ? t.verifiedSms(sentTo) : t.verifiedEmail(sentTo);
      done.hidden = false;
      done.focus();
    });
  });

  return {
    element: el('div', { class: 'ct-scroll' }, startForm, codeForm, done, back),
    focus: () => address.input.focus(),
  };
}
