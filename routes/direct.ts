import { Hono } from 'hono';
import type { AppEnv } from '../middleware/app-env.ts';
import { refuse, wantsPage } from '../middleware/access.ts';
import { fail } from '../lib/errors.ts';
import { directRoom, hasPersonKey, isPersonKey, personKey } from '../lib/direct.ts';
import { ACCOUNT_NAME, may } from '../lib/identity.ts';
import { roomPath } from '../lib/input.ts';

/**
 * `GET /dm/:person`: the direct room (lib/direct.ts) of the signed-in requester and a person, named by their
 * person key (what the page's name links carry) or as `@NAME` (an account's name, or a JWT's subject). A browser
 * is sent to the room; anyone else gets `{"room", "with", "url"}`. Only a person of their own (an account, a JWT)
 * has direct rooms: the anonymous are asked to sign in, the shared token (which names nobody) is refused.
 */
export const direct = new Hono<AppEnv>().get('/dm/:person', async (c) => {
  const { config, identity, people } = c.get('deps');
  const who = c.get('who');
  if (who.via === 'anonymous' && wantsPage(c)) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
  if (who.via === 'anonymous') refuse(c, 'send direct messages');
  if (!hasPersonKey(who.id)) fail(403, 'direct messages are between signed-in people (an account or a JWT); the shared token names nobody');
  const target = c.req.param('person');
  let other: string;
  let name: string | null;
  if (target.startsWith('@')) {
    const named = target.slice(1);
    if (config.auth === 'accounts') {
      if (!ACCOUNT_NAME.test(named) || !(await identity?.getAccount(named))) fail(404, `there is no account "${named}"`);
      other = personKey(`user:${named}`)!;
      name = named;
    } else {
      if (named.length === 0 || named.length > 256) fail(400, 'a JWT subject after @ is 1-256 characters');
      other = personKey(`jwt:${named}`)!;
      name = await people.nameOf(other);
    }
  } else {
    if (!isPersonKey(target)) fail(400, 'name the person by their key (20 hex digits, from a name link) or as @NAME');
    other = target;
    name = await people.nameOf(other);
  }
  const room = directRoom(personKey(who.id)!, other);
  if (!may(who, 'read', room)) fail(403, `${who.name ?? 'this identity'} may not send direct messages here (user access: dm-*)`);
  if (wantsPage(c)) return c.redirect(roomPath(room), 303);
  return c.json({ room, with: name, url: roomPath(room) });
});
