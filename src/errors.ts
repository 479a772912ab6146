// Errors that reach the user: one line on stderr and Docker's exit status.
export const EXIT_ENGINE = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;
/**
 * 128 + SIGPIPE: what a shell reports for docker (a Go program: a write to a closed stdout
 * pipe kills it with SIGPIPE) in `docker save X | head -c 1000`. Bun ignores SIGPIPE, so
 * tsd exits with that status itself, quietly, as the signal would have.
 */
export const EXIT_BROKEN_PIPE = 141;

/** An error with the exit status the CLI must end with. */
export class TsdError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ENGINE,
  ) {
    super(message);
  }
}

/** The reader of our output went away: the command ends at once, with no message. */
export class BrokenPipe extends Error {
  constructor() {
    super("broken pipe");
  }
}

/** A mistake in how a command was called (a malformed flag or value): Docker exits 125 for these. */
export class UsageError extends Error {}
