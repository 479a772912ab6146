// What one commit of tsd's database costs: bun:sqlite, WAL, synchronous FULL (tsd's settings)
// and NORMAL, a small row per transaction (as a container row's update), on each directory
// given (default: /dev/shm and /var/tmp). By hand only, never part of the test suite.
//
//   bun bench/db-commit.ts [DIR...]
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";

const dirs = process.argv.length > 2 ? process.argv.slice(2) : ["/dev/shm", "/var/tmp"];
const N = 200;
for (const dir of dirs) {
  for (const sync of ["FULL", "NORMAL"]) {
    const file = `${dir}/tsd-bench-commit-${process.pid}.db`;
    const db = new Database(file, { create: true });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${sync}`);
    db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)");
    const insert = db.query("INSERT INTO t VALUES (?, ?)");
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) db.transaction(() => insert.run(String(i), "x".repeat(2000))).immediate();
    const wall = (performance.now() - t0) / N;
    const c = process.cpuUsage(c0);
    console.log(`${dir} synchronous=${sync}: ${wall.toFixed(3)} ms per commit (CPU ${((c.user + c.system) / 1000 / N).toFixed(3)} ms)`);
    db.close();
    for (const s of ["", "-wal", "-shm"]) rmSync(file + s, { force: true });
  }
}
