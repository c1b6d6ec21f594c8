import type { Runtime } from '../app-env.ts';

/** A listening HTTP server. */
export interface Listening {
  /** The port it listens on (the one picked when 0 was asked for). */
  port: number;
  /** Stops accepting, lets the requests in flight finish, then resolves. */
  stop(): Promise<void>;
}

/** How one runtime serves the app: `runtime/bun.ts` or `runtime/node.ts`. */
export interface Platform {
  runtime: Runtime;
  /** How to start the server on this runtime, for --help. */
  command: string;
  serve(fetch: (req: Request, env: unknown) => Response | Promise<Response>, at: { port: number; host: string }): Promise<Listening>;
}

/** The platform of the runtime this process runs on (`typeof Bun` tells them apart). */
export async function currentPlatform(): Promise<Platform> {
  return typeof Bun !== 'undefined' ? (await import('./bun.ts')).bunPlatform : (await import('./node.ts')).nodePlatform;
}
