/**
 * A hub refusal shown next to the form field it names: the hub answers
 * 400 (or 409) with `{ field, message }`; the dialog puts the message under
 * that field (announced), ties the input to it (aria-invalid,
 * aria-describedby `<input id>-error`) and moves the focus there.
 */
import { ApiError } from './api.ts';

/** The hub's message without the "field: " it starts with (the field is shown by where the message is). */
export function bareMessage(error: ApiError): string {
  return error.field && error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
}

/** Focuses the element with this id once the change that shows it has rendered. */
export const focusLater = (id: string) => requestAnimationFrame(() => document.getElementById(id)?.focus());

/** A 400 or 409 whose `field` is one of the form's (a key of `fieldIds`). */
export function isFieldRefusal<K extends string>(error: unknown, fieldIds: Record<K, string>): error is ApiError & { field: K } {
  return error instanceof ApiError && (error.status === 400 || error.status === 409) && error.field !== undefined && error.field in fieldIds;
}

/** Attributes that tie the input `id` to its hint, if any, and to its error when it has one. */
export function describedBy(id: string, error: string | undefined, hint?: string) {
  const ids = [hint, error ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return { ...(error ? { 'aria-invalid': true as const } : {}), ...(ids ? { 'aria-describedby': ids } : {}) };
}

/** The error of the input `id` (nothing when it has none), optionally led by a label. */
export function FieldError(props: { id: string; message: string | undefined; label?: string }) {
  if (!props.message) return null;
  return (
    <p class="field-error" id={`${props.id}-error`} role="alert">
      {props.label ? `${props.label}: ` : null}
      {props.message}
    </p>
  );
}

/** A form's `described(field, hint?)` (spread on the input) and `fieldError(field)`, for its fields' element ids and current errors. */
export function fieldErrorsOf<K extends string>(fieldIds: Record<K, string>, errors: Partial<Record<K, string>>) {
  return {
    described: (field: K, hint?: string) => describedBy(fieldIds[field], errors[field], hint),
    fieldError: (field: K) => FieldError({ id: fieldIds[field], message: errors[field] }),
  };
}
