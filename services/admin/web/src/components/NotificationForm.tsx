/**
 * Adding a notification channel: a webhook (URL and signing secret) or e-mail
 * (recipients), and the events it is told about. Checked here first; what the server
 * still refuses (problem+json) is shown above the form, and beside the fields it names.
 */
import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, call, client, describeError } from '../api';
import { EMPTY_DRAFT, NOTIFICATION_EVENTS, SECRET_MIN_LENGTH, fieldOf, validateDraft, type ChannelDraft, type DraftField, type FieldErrors } from '../notifications';
import type { NotificationChannel, SubscribableEvent } from '../types';
import { ErrorMessage } from './States';

export function NotificationForm({ onCreated }: { onCreated: (channel: NotificationChannel) => void }) {
  const id = useId();
  const [draft, setDraft] = useState<ChannelDraft>(EMPTY_DRAFT);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  /** Sets a field and drops its error: what was said about the old value no longer holds. */
  const set = <K extends keyof ChannelDraft>(key: K, value: ChannelDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((current) => (current[key] ? { ...current, [key]: undefined } : current));
  };
  const toggleEvent = (event: SubscribableEvent, on: boolean) =>
    set('events', on ? [...draft.events, event] : draft.events.filter((e) => e !== event));

  /** Focus the first field with an error, so keyboard and screen-reader users land on it. */
  const focusFirstError = (found: FieldErrors) => {
    const first = (['kind', 'url', 'secret', 'recipients', 'events'] as const).find((f) => found[f]);
    if (first) form.current?.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setProblem(null);
    const checked = validateDraft(draft);
    if (checked.errors) {
      setErrors(checked.errors);
      focusFirstError(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const created = await call<NotificationChannel>(client.POST('/api/v1/admin/notifications', { body: checked.body }));
      setDraft(EMPTY_DRAFT);
      onCreated(created);
    } catch (e) {
      // Field errors the form can place go beside their field; the rest stay in the summary.
      const fromServer: FieldErrors = {};
      const unplaced: string[] = [];
      for (const err of e instanceof ApiError ? e.errors : []) {
        const field = fieldOf(err.path);
        if (field) fromServer[field] = fromServer[field] ? `${fromServer[field]} ${err.message}` : err.message;
        else unplaced.push(`${err.path}: ${err.message}`);
      }
      setErrors(fromServer);
      setProblem(e instanceof ApiError ? [e.message, ...unplaced].join(' ') : describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const fieldProps = (field: DraftField) => ({
    'data-field': field,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${id}-${field}-error` : undefined,
  });

  return (
    <form ref={form} className="card channel-form" aria-labelledby={`${id}-title`} onSubmit={submit} noValidate>
      <h2 id={`${id}-title`}>Add a channel</h2>
      {problem && <ErrorMessage error={`The channel was not added: ${problem}`} />}
      <fieldset className="choice-group" aria-describedby={errors.kind ? `${id}-kind-error` : undefined}>
        <legend>Kind</legend>
        {(['webhook', 'email'] as const).map((kind) => (
          <label key={kind} className="choice">
            <input type="radio" name={`${id}-kind`} value={kind} checked={draft.kind === kind} onChange={() => set('kind', kind)} {...(kind === 'webhook' ? { 'data-field': 'kind' } : {})} />
            {kind === 'webhook' ? 'Webhook' : 'E-mail'}
          </label>
        ))}
        {errors.kind && <FieldError id={`${id}-kind-error`}>{errors.kind}</FieldError>}
      </fieldset>
      {draft.kind === 'webhook' ? (
        <>
          <Field id={`${id}-url`} label="Webhook URL" error={errors.url}>
            <input id={`${id}-url`} type="url" inputMode="url" autoComplete="off" placeholder="https://hooks.example.com/flotilla" value={draft.url} onChange={(e) => set('url', e.target.value)} {...fieldProps('url')} />
          </Field>
          <Field id={`${id}-secret`} label="Signing secret" error={errors.secret} hint={`At least ${SECRET_MIN_LENGTH} characters. Each delivery is signed with it (HMAC); it is not shown again.`}>
            <input id={`${id}-secret`} type="password" autoComplete="new-password" value={draft.secret} onChange={(e) => set('secret', e.target.value)} {...fieldProps('secret')} aria-describedby={`${id}-secret-hint${errors.secret ? ` ${id}-secret-error` : ''}`} />
          </Field>
        </>
      ) : (
        <Field id={`${id}-recipients`} label="Recipients" error={errors.recipients} hint="E-mail addresses, separated by commas or new lines.">
          <textarea id={`${id}-recipients`} rows={3} value={draft.recipients} onChange={(e) => set('recipients', e.target.value)} {...fieldProps('recipients')} aria-describedby={`${id}-recipients-hint${errors.recipients ? ` ${id}-recipients-error` : ''}`} />
        </Field>
      )}
      <fieldset className="choice-group" aria-describedby={errors.events ? `${id}-events-error` : undefined}>
        <legend>Events</legend>
        {NOTIFICATION_EVENTS.map(({ event, label }, index) => (
          <label key={event} className="choice">
            <input type="checkbox" checked={draft.events.includes(event)} onChange={(e) => toggleEvent(event, e.target.checked)} {...(index === 0 ? { 'data-field': 'events' } : {})} />
            {label} <code>{event}</code>
          </label>
        ))}
        {errors.events && <FieldError id={`${id}-events-error`}>{errors.events}</FieldError>}
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add channel'}
        </button>
      </div>
    </form>
  );
}

function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <span id={`${id}-hint`} className="muted">{hint}</span>}
      {error && <FieldError id={`${id}-error`}>{error}</FieldError>}
    </div>
  );
}

function FieldError({ id, children }: { id: string; children: ReactNode }) {
  return (
    <span id={id} className="field-error">
      {children}
    </span>
  );
}
