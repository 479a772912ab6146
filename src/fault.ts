// Fault injection for the tests: `TSD_FAULT=NAME` makes the CLI SIGKILL itself at the point
// NAME, so a test can kill a command exactly where a random kill hits one time in many. A
// real SIGKILL, not an exception: nothing of the CLI's own (finally, handlers) runs.
export function faultPoint(name: string): void {
  if (process.env.TSD_FAULT === name) process.kill(process.pid, "SIGKILL");
}
