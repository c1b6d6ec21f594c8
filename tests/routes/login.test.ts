/** The sign-in page in each mode: its fields, its headers (the room page's CSP, no framing), where it sends you. */
import { describe, expect, it } from 'bun:test';
import { memoryApp } from './memory-app.ts';

const page = (app: ReturnType<typeof memoryApp>['app'], path = '/login') => app.request(`http://localhost${path}`, { headers: { Accept: 'text/html' }, redirect: 'manual' });

describe('GET /login', () => {
  const token = memoryApp(['--token', 'the shared token, long enough']).app;
  const accounts = memoryApp(['--auth', 'accounts']).app;
  const open = memoryApp([]).app;

  it('asks for what the mode needs: the token, or a name and a password', async () => {
    const tokenPage = await (await page(token)).text();
    expect(tokenPage).toContain('name="token"');
    expect(tokenPage).not.toContain('name="password"');
    const accountsPage = await (await page(accounts)).text();
    expect(accountsPage).toContain('name="user"');
    expect(accountsPage).toContain('name="password"');
    expect(accountsPage).toContain('autocomplete="current-password"');
  });

  it('sends the room page\'s Content-Security-Policy, and no other site may frame it', async () => {
    const res = await page(accounts);
    const policy = res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('keeps `next` on this server', async () => {
    expect(await (await page(token, '/login?next=/rooms/dev')).text()).toContain('value="/rooms/dev"');
    expect(await (await page(token, '/login?next=//evil.example/')).text()).toContain('name="next" value="/"');
  });

  it('keeps the name typed after a wrong password, escaped, and moves the focus to the password', async () => {
    const res = await accounts.request('http://localhost/login', {
      method: 'POST',
      headers: { Accept: 'text/html', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'al"ice<', password: 'not the password' }),
    });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('That name and password are not right.');
    expect(html).toMatch(/name="user" value="al&quot;ice&lt;"/);
    expect(html).toMatch(/name="password"[^>]*autofocus/);
  });

  it('has nothing to sign in to in open mode: it goes to the room', async () => {
    const res = await page(open);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });
});
