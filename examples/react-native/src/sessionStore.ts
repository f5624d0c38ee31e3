// Where the shopper's session is kept between launches. Its token resumes
// the shopper's place (or hold, or order) on any reconnect within the grace
// period, and after the app was killed and opened again: without it, a
// relaunch starts a new shopper at the back of the queue.
import type { Session } from "@foyer/client";

/** Loads and saves the one session of this device. */
export interface SessionStore {
  load(): Promise<Session | undefined>;
  save(session: Session): Promise<void>;
}

/**
 * A store in memory only: enough to try the screen, gone when the app is.
 *
 * A real app persists the session. The token is a bearer credential for 24
 * hours, so keep it where the platform keeps secrets: expo-secure-store
 * (`SecureStore.setItemAsync("foyer.session", JSON.stringify(session))`) or
 * react-native-keychain. AsyncStorage works too, unencrypted. Either fits
 * this interface in a few lines; this example adds neither dependency.
 */
export function memorySessionStore(): SessionStore {
  let kept: Session | undefined;
  return {
    load: async () => kept,
    save: async (session) => {
      kept = session;
    },
  };
}

/** A session still worth presenting: one whose token has not expired. */
export function usable(session: Session | undefined, now: number = Date.now()): Session | undefined {
  if (!session) return undefined;
  const expires = Date.parse(session.expires_at);
  return Number.isNaN(expires) || expires > now ? session : undefined;
}
