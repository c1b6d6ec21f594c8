import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Throws an HTTP error whose body is `{"error": reason}`. */
export function fail(status: ContentfulStatusCode, reason: string, headers?: Record<string, string>): never {
  throw new HTTPException(status, {
    message: reason,
    res: Response.json({ error: reason }, { status, headers }),
  });
}
