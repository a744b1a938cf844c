/**
 * A mistake in the command line (unknown flag, missing option, bad value). `bin.ts` prints the
 * message and the command's usage on stderr and exits with code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage to print (`undefined`: the top-level usage). */
  readonly command?: string;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}
