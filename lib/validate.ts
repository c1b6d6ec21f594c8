import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { ZodType } from 'zod';
import { fail } from './errors.ts';
import { firstIssue } from './input.ts';

/** Validates one part of the request with a zod schema; a failure is a 400 naming the first problem. */
export const valid = <Target extends keyof ValidationTargets, Schema extends ZodType>(target: Target, schema: Schema) =>
  zValidator(target, schema, (result) => {
    if (!result.success) fail(400, firstIssue(result.error));
  });
