/** @jsxImportSource hono/jsx */
import { Layout } from './layout.tsx';

/** The modes with a sign-in page (open mode has none). */
export type LoginMode = 'token' | 'accounts' | 'jwt';

/** Why the page is shown again: a wrong credential, or too many failed tries (seconds to wait). */
export type LoginProblem = null | 'wrong' | 'wrong-password' | 'wrong-jwt' | { limited: number };

const PROBLEMS: Record<Exclude<LoginProblem, null | { limited: number }>, string> = {
  wrong: 'That token is not right.',
  'wrong-password': 'That name and password are not right.',
  'wrong-jwt': 'That token was not accepted: it may have expired, or be for another server.',
};

const INTRO: Record<LoginMode, string> = {
  token: 'This server is private. Enter its token to join.',
  accounts: 'Sign in with your name and password.',
  jwt: 'Paste the sign-in token your organisation gave you.',
};

/** The fields each mode asks for. */
const Fields = ({ mode, user }: { mode: LoginMode; user: string }) =>
  mode === 'accounts' ? (
    <>
      <label for="login-user">Name</label>
      {/* After a wrong try the name stays, and the password takes the focus. */}
      <input id="login-user" name="user" value={user} autocomplete="username" autocapitalize="none" spellcheck={false} maxlength={64} required autofocus={!user} />
      <label for="login-password">Password</label>
      <input id="login-password" type="password" name="password" autocomplete="current-password" maxlength={128} required autofocus={!!user} />
    </>
  ) : mode === 'jwt' ? (
    <>
      <label for="login-jwt">Token</label>
      <textarea id="login-jwt" name="jwt" rows={4} spellcheck={false} autocomplete="off" required autofocus></textarea>
    </>
  ) : (
    <>
      <label for="login-token">Token</label>
      <input id="login-token" type="password" name="token" autocomplete="current-password" required autofocus />
    </>
  );

/** The sign-in page of every mode with a sign-in: it posts to /login and comes back here when that fails. */
export const LoginPage = ({ next, problem, mode, user = '' }: { next: string; problem: LoginProblem; mode: LoginMode; user?: string }) => (
  <Layout title="Sign in · threadchat">
    <main class="login">
      <form method="post" action="/login" class="login-form">
        <h1>threadchat</h1>
        <p>{INTRO[mode] ?? INTRO.token}</p>
        {typeof problem === 'string' ? (
          <p class="login-error" role="alert">
            {PROBLEMS[problem]}
          </p>
        ) : null}
        {problem && typeof problem === 'object' ? (
          <p class="login-error" role="alert">
            Too many failed sign-ins. Try again in {problem.limited} s.
          </p>
        ) : null}
        <input type="hidden" name="next" value={next} />
        <Fields mode={mode} user={user} />
        <button type="submit">Sign in</button>
      </form>
    </main>
  </Layout>
);
