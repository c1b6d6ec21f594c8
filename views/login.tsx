/** @jsxImportSource hono/jsx */
import { Layout } from './layout.tsx';

/** Why the page is shown again: a wrong token, or too many failed tries from this address (seconds to wait). */
export type LoginProblem = null | 'wrong' | { limited: number };

/** Asks for the server's shared token (only shown when the server runs with --token). */
export const LoginPage = ({ next, problem }: { next: string; problem: LoginProblem }) => (
  <Layout title="Sign in · threadchat">
    <main class="login">
      <form method="post" action="/login" class="login-form">
        <h1>threadchat</h1>
        <p>This server is private. Enter its token to join.</p>
        {problem === 'wrong' ? <p class="login-error" role="alert">That token is not right.</p> : null}
        {problem && typeof problem === 'object' ? (
          <p class="login-error" role="alert">
            Too many failed sign-ins from your address. Try again in {problem.limited} s.
          </p>
        ) : null}
        <input type="hidden" name="next" value={next} />
        <input type="password" name="token" placeholder="token" autocomplete="current-password" required autofocus />
        <button type="submit">Sign in</button>
      </form>
    </main>
  </Layout>
);
