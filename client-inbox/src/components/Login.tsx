/** The login form: email and password, then the authenticator code when the account has one. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type Api, type Session } from '../api.ts';

export function Login(props: { api: Api; notice: string | null; initialEmail: string; onLoggedIn(session: Session): void }) {
  const [email, setEmail] = useState(props.initialEmail);
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const totpRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Log in · CareThread Inbox';
    (props.initialEmail ? passwordRef : first).current?.focus();
  }, []);
  useEffect(() => {
    if (needTotp) totpRef.current?.focus();
  }, [needTotp]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await props.api.login(email.trim(), password, needTotp ? totp.trim() : undefined);
      props.onLoggedIn(session);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'TOTP_REQUIRED') {
        setNeedTotp(true);
        setError(null);
      } else {
        setError(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">CareThread Inbox</h1>
        <p class="login-sub">Log in to answer your patients.</p>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <label for="login-email">Email</label>
        <input
          id="login-email"
          ref={first}
          type="email"
          autocomplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          ref={passwordRef}
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {needTotp && (
          <>
            <label for="login-totp">Authenticator code</label>
            <input
              id="login-totp"
              ref={totpRef}
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              aria-describedby="login-totp-hint"
              value={totp}
              onInput={(e) => setTotp(e.currentTarget.value)}
            />
            <p id="login-totp-hint" class="hint">
              The 6-digit code from your authenticator app.
            </p>
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
