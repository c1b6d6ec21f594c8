import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { fail } from '../lib/errors.ts';
import { originOf, parsePublicUrls } from '../lib/public-url.ts';

const SAFE = /^(GET|HEAD|OPTIONS)$/;

/**
 * Cross-site request forgery (OWASP CSRF cheat sheet, "Verifying origin with standard headers" and "Fetch
 * Metadata"): a request that changes something (any method but GET, HEAD, OPTIONS) is refused with 403 when a
 * browser says it comes from another origin. Browsers send `Origin` on every such request and cannot be made to
 * forge it; a form or a `no-cors` fetch on another site carries that site's.
 *
 * Its own origins: the request's scheme (https directly or per a trusted proxy: `c.get('client').https`) with its
 * Host, which middleware/host-name.ts has checked, and every --public-url origin. The rules:
 * - an `Origin` (including `null`: a sandboxed frame, a cross-site redirect) must be one of them;
 * - without one, `Sec-Fetch-Site: cross-site` or `same-site` is refused (a browser that sent fetch metadata and no Origin);
 * - with neither, the request goes on: curl, bin/chat and the soak and bench clients send no Origin, and cannot
 *   be steered by another site. The token, or the sign-in cookie (SameSite=Strict), still guards them.
 *
 * Not hono/csrf: with this version (4.13), tests/e2e/door.test.ts saw it refuse a form-encoded or text post
 * without Origin (curl -d, bin/chat), take a JSON post from a foreign Origin (it looks only at form and text
 * content types), take a foreign Origin beside a forged `Sec-Fetch-Site: same-origin` (either check passing
 * lets a request through), and answer a bare "Forbidden".
 */
export function sameOrigin(publicUrl: string) {
  const { origins } = parsePublicUrls(publicUrl); // checked by loadConfig already
  return createMiddleware<AppEnv>(async (c, next) => {
    if (SAFE.test(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      if (origins.has(origin) || origin === originOf(c.get('client').https, new URL(c.req.url).host)) return next();
      fail(403, `a ${c.req.method} from another origin (${origin.slice(0, 200)}) is refused: a page may only post to the server that served it${origins.size ? '' : ' (behind a proxy, give its public URL with --public-url)'}`);
    }
    const site = c.req.header('sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') fail(403, `a ${c.req.method} from a ${site} page without an Origin is refused: a page may only post to the server that served it`);
    return next();
  });
}
