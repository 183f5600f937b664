/**
 * The email survey's page (GET/POST /csat/:token): one server-rendered HTML
 * document, no script, no style, no external asset, so it works under the
 * hub's strict CSP (default-src 'self', form-action 'self') and with any
 * browser, screen reader or keyboard. A fieldset of five labelled radio
 * buttons, an optional comment, one button; errors are said in words, tied to
 * their field, and announced.
 */
import { MAX_CSAT_COMMENT_LENGTH } from './csat-reply.ts';
import { PAGE_STRINGS, type CsatLanguage } from './csat-texts.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(language: CsatLanguage, clinic: string, body: string): string {
  const title = PAGE_STRINGS[language].title;
  return (
    `<!doctype html><html lang="${language}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">` +
    `<title>${escapeHtml(title)} – ${escapeHtml(clinic)}</title></head>` +
    `<body><main><p>${escapeHtml(clinic)}</p><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
  );
}

/** A page that only says something (thanks, already answered, closed, not valid). */
export function csatMessagePage(language: CsatLanguage, clinic: string, kind: 'thanks' | 'already' | 'expired' | 'invalid'): string {
  const t = PAGE_STRINGS[language];
  const text = { thanks: t.thanks, already: t.already, expired: t.expired, invalid: t.invalid }[kind];
  const more = kind === 'thanks' ? `<p>${escapeHtml(t.thanksMore)}</p>` : '';
  return page(language, clinic, `<p role="status">${escapeHtml(text)}</p>${more}`);
}

export interface CsatFormState {
  score?: number | undefined;
  comment?: string | undefined;
  error?: { field: 'score' | 'comment'; message: string } | undefined;
}

export function csatFormPage(language: CsatLanguage, clinic: string, token: string, state: CsatFormState = {}): string {
  const t = PAGE_STRINGS[language];
  const error = state.error;
  const alert = error
    ? `<p id="csat-error" role="alert"><strong>${escapeHtml(t.errorPrefix)}</strong> ${escapeHtml(error.message)}</p>`
    : '';
  const scoreError = error?.field === 'score';
  const commentError = error?.field === 'comment';
  const options = t.options
    .map((label, i) => {
      const value = i + 1;
      return `<div><input type="radio" id="score-${value}" name="score" value="${value}" required${state.score === value ? ' checked' : ''}>` +
        ` <label for="score-${value}">${escapeHtml(label)}</label></div>`;
    })
    .join('');
  const describedBy = ['comment-hint', commentError ? 'csat-error' : null].filter(Boolean).join(' ');
  const body =
    `<p>${escapeHtml(t.intro(clinic))}</p>${alert}` +
    `<form method="post" action="/csat/${encodeURIComponent(token)}">` +
    `<fieldset${scoreError ? ' aria-describedby="csat-error" aria-invalid="true"' : ''}><legend>${escapeHtml(t.legend)}</legend>${options}</fieldset>` +
    `<p><label for="comment">${escapeHtml(t.comment)}</label></p>` +
    `<p id="comment-hint">${escapeHtml(t.commentHint)}</p>` +
    `<p><textarea id="comment" name="comment" rows="5" cols="40" maxlength="${MAX_CSAT_COMMENT_LENGTH}" aria-describedby="${describedBy}"${commentError ? ' aria-invalid="true"' : ''}>` +
    `${escapeHtml(state.comment ?? '')}</textarea></p>` +
    `<p><button type="submit">${escapeHtml(t.send)}</button></p>` +
    `</form>`;
  return page(language, clinic, body);
}
