/** What differs between Bun and Node: the peer address, and lifting the idle timeout for a long stream. */
export interface Runtime {
  name: 'bun' | 'node';
  /** `address:port` of the peer (the client, or a proxy), for logs; middleware/client-address.ts reads it. */
  peer(req: Request, env: unknown): string;
  /** The peer's IP address; middleware/client-address.ts turns it into the client's (behind --trust-proxy). */
  address(req: Request, env: unknown): string;
  /** Lifts the idle timeout of this request's connection: an SSE stream is quiet between heartbeats. */
  keepOpen(req: Request, env: unknown): void;
  /** Collects the main thread's garbage now, where the runtime allows it (a test hook: POST /debug/gc). */
  collectGarbage?(): boolean;
}

/** A listening HTTP server. */
export interface Listening {
  /** The port it listens on (the one picked when 0 was asked for); 0 on a unix socket. */
  port: number;
  /** Stops accepting, lets the requests in flight finish, then resolves. */
  stop(): Promise<void>;
}

/** Where and how to listen; `tls` holds PEM texts. */
export interface ServeAt {
  port: number;
  host: string;
  /** A unix socket's path to listen on instead of host and port (runtime/unix-socket.ts claimed it: free, or stale and removed). */
  unix?: string | null;
  tls?: { cert: string; key: string } | null;
}

/** How one runtime serves the app: `runtime/bun.ts` or `runtime/node.ts`. */
export interface Platform {
  runtime: Runtime;
  /** How to start the server on this runtime, for --help. */
  command: string;
  /** Serves plain HTTP/1.1, or with `tls` HTTPS: HTTP/2 to clients that offer it (ALPN), HTTP/1.1 to the others. */
  serve(fetch: (req: Request, env: unknown) => Response | Promise<Response>, at: ServeAt): Promise<Listening>;
}
