/**
 * The names this server answers to and the origins it posts from: --public-url (the URLs people reach it by,
 * the proxy's public ones behind a proxy) and this machine's loopback names. Pure; what middleware/host-name.ts
 * and middleware/same-origin.ts check requests against.
 */
import { isTrusted, parseTrustList } from './ip-address.ts';

/** --public-url read: each URL's origin (`https://chat.example.com`) and host name (`chat.example.com`). */
export interface PublicUrls {
  readonly origins: ReadonlySet<string>;
  readonly hostnames: ReadonlySet<string>;
}

const LOOPBACK = parseTrustList('127.0.0.0/8,::1');

/** Reads a --public-url list (`https://chat.example.com,http://10.0.0.5:3000`); throws an Error naming the first bad entry. */
export function parsePublicUrls(text: string): PublicUrls {
  const origins = new Set<string>();
  const hostnames = new Set<string>();
  if (text.trim() === '') return { origins, hostnames };
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') throw new Error('an empty entry (two commas, or one at an end) is not a URL');
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`"${entry}" is not a URL: write it as a browser's address bar shows it, e.g. https://chat.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${entry}" is not an http:// or https:// URL`);
    // Only an origin: the app is served at the root, and a path or a user here is a mistake worth saying.
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) throw new Error(`"${entry}" has more than a scheme, a host and a port`);
    origins.add(url.origin); // canonical: lower case, default port left out, as browsers send Origin
    hostnames.add(url.hostname);
  }
  return { origins, hostnames };
}

/** What is wrong with a --public-url list, or null (for lib/config.ts). */
export function publicUrlProblem(text: string): string | null {
  try {
    parsePublicUrls(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A host name as a URL gives it (`localhost`, `127.0.0.1`, `[::1]`) names this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackName(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const address = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isTrusted(address, LOOPBACK);
}

/** An address to listen on (--host: `127.0.0.1`, `::1`, `localhost`) that only this machine can reach. */
export const isLoopbackHost = (host: string) => isLoopbackName(host.toLowerCase());

/** `scheme://host` as a browser would send it in Origin (default port left out), or null for a host no URL takes. */
export function originOf(https: boolean, host: string): string | null {
  try {
    return new URL(`${https ? 'https' : 'http'}://${host}`).origin;
  } catch {
    return null;
  }
}
