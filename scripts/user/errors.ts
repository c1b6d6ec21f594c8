/** A mistake in how the command was called: exit 2 and a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}
