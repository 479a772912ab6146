// The cgroup set-up alone, in process: create `tsd-bench/<n>` with and without limits, then
// remove it, N times each, on this host's driver. What `tsd run` spends on its cgroup apart
// from the monitor's pid write. By hand: sudo bun bench/cgroup-setup.ts [N]
import { hostDriver, hostLayout } from "../src/cgroup";
import type { Resources } from "../src/cgroup/resources";

const n = Number(process.argv[2] ?? 200);
const driver = hostDriver();
const limits: Resources = { memory: 64 << 20, nanoCpus: 5e8, pidsLimit: 100 };

function measure(label: string, r: Resources): void {
  const create: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = `tsd-bench-${process.pid}/${i}`;
    const t0 = performance.now();
    driver.create(g, r);
    const t1 = performance.now();
    driver.remove(g);
    remove.push(performance.now() - t1);
    create.push(t1 - t0);
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`${label.padEnd(12)} create ${med(create).toFixed(3)} ms  remove ${med(remove).toFixed(3)} ms  (median of ${n})`);
}

console.log(`cgroup v${hostLayout().version}, ${driver.dirs("x").length} director${driver.dirs("x").length === 1 ? "y" : "ies"} per group`);
try {
  measure("no limits", {});
  measure("limits", limits);
} finally {
  for (const d of driver.dirs(`tsd-bench-${process.pid}`)) {
    try {
      require("node:fs").rmdirSync(d);
    } catch {}
  }
}
