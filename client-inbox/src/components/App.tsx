/** The inbox app: the login screen, or the workspace of a logged-in agent. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, type Session } from '../api.ts';
import { autoAway, drafts, savedOpen } from '../storage.ts';
import { Login } from './Login.tsx';
import { Workspace } from './Workspace.tsx';

type Phase = 'booting' | 'login' | 'app';

export function App() {
  const api = useMemo(() => new Api(), []);
  const [phase, setPhase] = useState<Phase>('booting');
  const [session, setSession] = useState<Session | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [lastEmail, setLastEmail] = useState('');
  const current = useRef<Session | null>(null);
  current.current = session;

  /** The session ended on the hub (automatic logoff, revoked): back to login, drafts kept, email filled in. */
  const ended = useMemo(
    () => (message: string) => {
      if (current.current) setLastEmail(current.current.agent.email);
      api.forget();
      setNotice(message);
      setSession(null);
      setPhase('login');
    },
    [api],
  );

  useEffect(() => {
    api.onSessionEnded = ended;
    void api.resume().then((resumed) => {
      if (resumed) {
        setSession(resumed);
        setPhase('app');
      } else {
        setPhase('login');
      }
    });
  }, [api]);

  if (phase === 'booting') {
    return (
      <main class="boot" aria-busy="true">
        <p>Loading the inbox…</p>
      </main>
    );
  }
  if (phase === 'login' || !session) {
    return (
      <Login
        api={api}
        notice={notice}
        initialEmail={lastEmail}
        onLoggedIn={(s) => {
          drafts.keepOnly(s.agent.id);
          setNotice(null);
          setSession(s);
          setPhase('app');
        }}
      />
    );
  }
  return (
    <Workspace
      key={session.agent.id}
      api={api}
      agent={session.agent}
      onSessionEnded={ended}
      onLogout={async () => {
        setLastEmail(session.agent.email);
        drafts.keepOnly(null);
        savedOpen.set(session.agent.id, null);
        autoAway.set(session.agent.id, false);
        await api.logout();
        setNotice('You logged out.');
        setSession(null);
        setPhase('login');
      }}
    />
  );
}
