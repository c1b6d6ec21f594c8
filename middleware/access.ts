/**
 * The rights check at each route that touches a room, and at the pages that show every room (status, metrics):
 * `may(who, right, room)` (lib/identity.ts) on the identity decided at the door (identify.ts). Not signed in and
 * not allowed: 401 (a browser asking for a page is sent to sign in); signed in and not allowed: 403.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { fail } from '../lib/errors.ts';
import { may, type Right } from '../lib/identity.ts';
import { normalizeRoom } from '../lib/input.ts';

/** A browser asking for a page (sent to sign in rather than given a 401). */
export const wantsPage = (c: Context<AppEnv>) => c.req.method === 'GET' && (c.req.header('accept')?.includes('text/html') ?? false) && !c.req.path.endsWith('/events');

/** How to sign in, per mode: what a 401 tells a curl user to send. */
const HOW = {
  open: '',
  token: 'this server needs a token: send "Authorization: Bearer <token>", or sign in on the page',
  accounts: 'send "Authorization: Bearer <access token>" (bun run user token NAME) or curl -u NAME:PASSWORD, or sign in on the page',
  jwt: 'send "Authorization: Bearer <JWT>", or sign in on the page',
} as const;

/** Refuses `what`: 403 when signed in, else 401 saying how to sign in. */
export function refuse(c: Context<AppEnv>, what: string): never {
  const who = c.get('who');
  if (who.via !== 'anonymous') fail(403, `${who.name ?? 'this identity'} may not ${what}`);
  const mode = c.get('deps').config.auth;
  const challenge = mode === 'accounts' ? 'Basic realm="threadchat", charset="UTF-8", Bearer realm="threadchat"' : 'Bearer realm="threadchat"';
  fail(401, `sign in to ${what}: ${HOW[mode]}`, { 'WWW-Authenticate': challenge });
}

/** Needs `right` in the route's `:room` (or in `room`, for routes whose room is fixed, such as `/`). */
export const requireRight = (right: Exclude<Right, 'admin'>, fixedRoom?: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const room = normalizeRoom(fixedRoom ?? c.req.param('room') ?? ''); // as the route will read it (lib/input.ts)
    if (may(c.get('who'), right, room)) return next();
    if (c.get('who').via === 'anonymous' && wantsPage(c)) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
    refuse(c, `${right === 'read' ? 'read' : 'write in'} #${room}`);
  });

/** Needs an admin when the server has sign-ins (every mode but open); open to all in open mode. */
export const requireAdmin = (open: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (open || c.get('who').admin) return next();
    if (c.get('who').via === 'anonymous' && wantsPage(c)) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
    refuse(c, 'see this (admins only)');
  });
