// The exit status of `tsd-monitor --copy` and `--pack` (zig/CONTRACT.md "Exit status of the copy
// helper", zig/monitor/copy_status.zig): one status per failure class, so the CLI decides by
// number, never by the text of the helper's stderr line. test/contract holds both sides to
// test/contract/fixtures/copy-status.txt.
import { TsdError } from "../errors";

export const helperFailures = {
  1: "failed",
  2: "usage",
  3: "not-found",
  4: "not-a-directory",
  5: "permission",
  6: "no-space",
  7: "broken-pipe",
  8: "not-running",
} as const;

export type HelperFailure = (typeof helperFailures)[keyof typeof helperFailures];

/** The class of a non-zero exit status; a status the table does not know is `failed`. */
export function helperFailure(status: number): HelperFailure {
  return (helperFailures as Record<number, HelperFailure>)[status] ?? "failed";
}

/** A copy helper's failure: its stderr line for the user, its class for the CLI. */
export class HelperError extends TsdError {
  constructor(
    message: string,
    readonly failure: HelperFailure,
    exitCode?: number,
  ) {
    super(message, exitCode);
  }
}
