/**
 * The signed-in key: in memory and in sessionStorage (so a reload keeps it, a closed tab forgets it),
 * never in localStorage. Its role is read from the API; the operator's settings give the time zone
 * and country that numbers, dates and money are shown in.
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError, call, client, setApiKey, unwrap, type Schemas } from './client';
import { allows, type Role } from './roles';

const STORAGE_KEY = 'ispnotify.apiKey';

export interface Session {
  role: Role;
  settings?: Schemas['Settings'];
  /** Whether this key may call a route, e.g. can('POST /v1/messages'). */
  can(routeKey: string): boolean;
  signOut(): void;
  reloadSettings(): Promise<void>;
}

interface SessionState {
  session?: Session;
  restoring: boolean;
  signIn(key: string): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/**
 * The key's role, asked of the API by what it lets the key do (it has no "who am I" route, and keys
 * made before roles are listed without their last characters): a POST /v1/keys with an invalid role
 * is refused with 400 to an admin key (checked after authorization, so nothing is made) and 403 to
 * any other; GET /v1/keys is readable by read-only keys; the billing routes by billing keys; what is
 * left is a reseller's key.
 */
async function roleOf(): Promise<Role> {
  const refusedWith = (error: unknown, status: number) => {
    if (error instanceof ApiError && error.status === status) return true;
    if (error instanceof ApiError && error.status === 403) return false;
    throw error;
  };
  try {
    await call('POST', '/v1/keys', { role: '-' });
  } catch (error) {
    if (refusedWith(error, 400)) return 'admin';
  }
  const readable = async (path: string) => call('GET', path).then(() => true, (error: unknown) => refusedWith(error, 200));
  if (await readable('/v1/keys')) return 'read-only';
  if (await readable('/v1/billing/balance')) return 'billing';
  return 'reseller';
}

async function settingsFor(role: Role): Promise<Schemas['Settings'] | undefined> {
  return allows(role, 'GET /v1/settings') ? unwrap(client.GET('/v1/settings')) : undefined;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session>();
  const [restoring, setRestoring] = useState(true);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiKey(undefined);
    setSession(undefined);
  }, []);

  const signIn = useCallback(
    async (key: string) => {
      setApiKey(key);
      try {
        const role = await roleOf();
        let settings = await settingsFor(role);
        sessionStorage.setItem(STORAGE_KEY, key);
        const reloadSettings = async () => {
          settings = await settingsFor(role);
          setSession((current) => current && { ...current, settings });
        };
        setSession({ role, settings, can: (routeKey) => allows(role, routeKey), signOut, reloadSettings });
      } catch (error) {
        setApiKey(undefined);
        throw error;
      }
    },
    [signOut],
  );

  useEffect(() => {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (!stored) return setRestoring(false);
    signIn(stored)
      .catch(() => sessionStorage.removeItem(STORAGE_KEY))
      .finally(() => setRestoring(false));
  }, [signIn]);

  return <SessionContext.Provider value={{ session, restoring, signIn }}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The signed-in session (pages render only when there is one). */
export function useSession(): Session {
  const { session } = useSessionState();
  if (!session) throw new Error('useSession without a signed-in key');
  return session;
}
