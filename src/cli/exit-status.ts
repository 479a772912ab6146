// Docker's CLI exit statuses for errors: a bad flag or value is 125 everywhere (cobra's flag
// errors, run/create's option parsing); an engine error is 125 (126, 127) for `run` only: every
// other command, `create` included, reports the daemon's error and exits 1. `exec` keeps 126
// and 127 (cannot invoke, not found) for the exec'd command.
import { EXIT_CANNOT_INVOKE, EXIT_ENGINE, EXIT_NOT_FOUND } from "../errors";

/** The command as typed: `run`, `container run`, `exec` … (argv after the global flags). */
export function commandPath(argv: string[]): string {
  const [name, sub] = argv;
  return (name === "container" || name === "image") && sub !== undefined && !sub.startsWith("-") ? `${name} ${sub}` : (name ?? "");
}

/** The status an engine error with `status` ends `command` with. */
export function engineErrorStatus(command: string, status: number): number {
  if (command === "run" || command === "container run") return status;
  const invoke = status === EXIT_CANNOT_INVOKE || status === EXIT_NOT_FOUND;
  if (invoke && (command === "exec" || command === "container exec")) return status;
  return status === EXIT_ENGINE || invoke ? 1 : status;
}
