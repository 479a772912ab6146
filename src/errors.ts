// Errors that reach the user: one line on stderr and Docker's exit status.
export const EXIT_ENGINE = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

/** An error with the exit status the CLI must end with. */
export class TsdError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ENGINE,
  ) {
    super(message);
  }
}
