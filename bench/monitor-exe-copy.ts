// The in-process cost behind bench/monitor-exe.sh, without the noise of a whole `tsd run`:
// a new sealed memfd copy of the monitor, and the check that shares a running monitor's.
//   sudo bun bench/monitor-exe-copy.ts [DONOR_MONITOR_PID]
import { monitorExecutable } from "../src/native/embedded";

function time(label: string, n: number, fn: () => void): void {
  for (let i = 0; i < 20; i++) fn();
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) fn();
  console.log(`${label}: ${((Bun.nanoseconds() - t0) / n / 1e6).toFixed(3)} ms per call (${n} calls)`);
}

time("new sealed memfd copy", 500, () => monitorExecutable([]).close());
const donor = Number(process.argv[2] ?? 0);
if (donor > 0) time(`shared from monitor ${donor}`, 500, () => monitorExecutable([donor]).close());
