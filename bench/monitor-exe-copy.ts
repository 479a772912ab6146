// The in-process cost behind bench/monitor-exe.sh, without the noise of a whole `tsd run`:
// a new sealed memfd copy of the monitor, and the check that shares a running monitor's.
// "wall" is the whole call; "this thread" the part before it yields to the thread pool, which
// is what `run` pays on its own thread (it starts the call before building the bundle).
//   sudo bun bench/monitor-exe-copy.ts [DONOR_MONITOR_PID]
import { monitorExecutable, type Donor } from "../src/native/embedded";

async function time(label: string, n: number, donors: Donor[]): Promise<void> {
  for (let i = 0; i < 20; i++) (await monitorExecutable(donors)).close();
  let wall = 0;
  let sync = 0;
  for (let i = 0; i < n; i++) {
    const t0 = Bun.nanoseconds();
    const p = monitorExecutable(donors);
    sync += Bun.nanoseconds() - t0;
    (await p).close();
    wall += Bun.nanoseconds() - t0;
  }
  console.log(`${label}: ${(wall / n / 1e6).toFixed(3)} ms wall, ${(sync / n / 1e6).toFixed(3)} ms on this thread (${n} calls)`);
}

await time("new sealed memfd copy", 300, []);
const donor = Number(process.argv[2] ?? 0);
// Shared on its name, seals and size (the start-time check is the caller's: always true here).
if (donor > 0) await time(`shared from monitor ${donor}`, 300, [{ pid: donor, stillSame: () => true }]);
