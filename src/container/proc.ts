// Process identity: a pid alone can be recycled, so every recorded pid (container init,
// monitor) carries its start time from /proc/PID/stat, and "is it alive" means "a process
// with this pid and this start time exists".
import { readFileSync } from "node:fs";

/** Field 22 of /proc/PID/stat (clock ticks since boot), or undefined when there is no such pid. */
export function procStartTime(pid: number): string | undefined {
  if (!(pid > 0)) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): a zombie has exited already.
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `start` (undefined start: pid only). */
export function sameProcess(pid: number, start: string | null | undefined): boolean {
  const now = procStartTime(pid);
  if (now === undefined) return false;
  return !start || now === start;
}
