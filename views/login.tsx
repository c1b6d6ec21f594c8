/** @jsxImportSource hono/jsx */
import { Layout } from './layout.tsx';

/** Asks for the server's shared token (only shown when the server runs with --token). */
export const LoginPage = ({ next, failed }: { next: string; failed: boolean }) => (
  <Layout title="Sign in · threadchat">
    <main class="login">
      <form method="post" action="/login" class="login-form">
        <h1>threadchat</h1>
        <p>This server is private. Enter its token to join.</p>
        {failed ? <p class="login-error" role="alert">That token is not right.</p> : null}
        <input type="hidden" name="next" value={next} />
        <input type="password" name="token" placeholder="token" autocomplete="current-password" required autofocus />
        <button type="submit">Sign in</button>
      </form>
    </main>
  </Layout>
);
