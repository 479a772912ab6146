// A lease says "this process is adding to the store": layers and blobs it committed are not
// referenced by an image row until it finishes, so garbage collection (rmi, image prune) must
// not sweep them meanwhile. A lease is a file tmp/leases/<pid>-<random>; a dead pid's lease
// is ignored and removed.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootPaths } from "../store/paths";

export interface Lease {
  release: () => void;
}

export function takeLease(root: string): Lease {
  // The next writer collects the leases of killed ones (a pull SIGKILLed mid-way), not only gc.
  storeBusy(root);
  const dir = join(rootPaths(root).tmp, "leases");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, "");
  return { release: () => rmSync(path, { force: true }) };
}

/** True while another live process holds a lease on the store. */
export function storeBusy(root: string): boolean {
  const dir = join(rootPaths(root).tmp, "leases");
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  let busy = false;
  for (const n of names) {
    const pid = Number(n.split("-")[0]);
    if (pid === process.pid) continue;
    if (pid > 0 && alive(pid)) busy = true;
    else rmSync(join(dir, n), { force: true });
  }
  return busy;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
