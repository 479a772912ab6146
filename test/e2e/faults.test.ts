// Faults the host throws at tsd: a root dir whose filesystem fills up while a container runs.
// The root lives on a small tmpfs this file mounts (and unmounts, whatever happens).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { TSD, TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(60000);

const mnt = mkdtempSync("/dev/shm/tsd-e2e-fs-");
let t: TestRoot;

function sh(cmd: string): { code: number; out: string } {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? 1, out: p.stdout.toString() + p.stderr.toString() };
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  const images = await testImages();
  const m = sh(`mount -t tmpfs -o size=64m tsd-e2e-fs ${mnt}`);
  if (m.code !== 0) throw new Error(`mount tmpfs: ${m.out}`);
  t = new TestRoot("faults", mnt);
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  rmSync(join(mnt, "filler"), { force: true });
  await t.destroy();
  sh(`umount -l ${mnt}`);
  rmSync(mnt, { recursive: true, force: true });
});

describe("a full disk", () => {
  test("the exit status recorded while the disk is full survives; commands say so in one line", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "busybox", "sh", "-c", 'trap "exit 7" USR1; while :; do sleep 0.1; done'])).trim();
    const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
    const row = () => db.query("SELECT pid, monitor_pid, state, exit_code FROM containers WHERE id = ?").get(id) as { pid: number; monitor_pid: number; state: string; exit_code: number | null };
    const { pid, monitor_pid } = row();
    try {
      expect(alive(pid) && alive(monitor_pid)).toBe(true);
      // Fill the filesystem to the last block.
      sh(`dd if=/dev/zero of=${join(mnt, "filler")} bs=1M 2>/dev/null; dd if=/dev/zero of=${join(mnt, "filler2")} bs=4k 2>/dev/null`);
      expect(statfsSync(mnt).bavail).toBe(0);
      process.kill(pid, "SIGUSR1");
      for (let i = 0; i < 400 && alive(monitor_pid); i++) await Bun.sleep(25);
      expect(alive(monitor_pid)).toBe(false);
      // The monitor's cleanup could not write the database: the row still says running.
      expect(row().state).toBe("running");
      const full = await t.tsd(["ps", "-a"]);
      expect(full.code).toBe(125);
      expect(full.stderr).toBe(`tsd: no space left on the device of the root dir ${t.dir}: free space there, or move the root (--root DIR or TSD_ROOT)\n`);
    } finally {
      rmSync(join(mnt, "filler"), { force: true });
      rmSync(join(mnt, "filler2"), { force: true });
    }
    // Space again: the next command records the exit the monitor wrote while the disk was full.
    const status = (await t.ok(["ps", "-a", "--filter", `id=${id}`, "--format", "{{.Status}}"])).trim();
    expect(status).toMatch(/^Exited \(7\) /);
    expect(row()).toMatchObject({ state: "exited", exit_code: 7 });
    db.close();
    await t.ok(["rm", id]);
    expect(t.leaks()).toEqual([]);
  });
});

describe("a client that stopped reading", () => {
  test("stop -t 1 of a foreground run whose output nobody reads: 137 is recorded, the monitor ends by itself", async () => {
    // `sleep` never reads its stdin: once the pipe is full the monitor's writes to the CLI's
    // stdout block, and before, the monitor heard no signal until stop killed it (Exited (-1)).
    // Its own process group (setsid execs in place: pid = pgid), killed whole at the end.
    const pipeline = Bun.spawn(["setsid", "sh", "-c", `exec ${TSD} --root ${t.dir} run --name flood --network none busybox yes | sleep 60`], { stdout: "ignore", stderr: "pipe" });
    try {
      let running = "";
      for (let i = 0; i < 200 && running !== "true"; i++) {
        running = (await t.tsd(["inspect", "-f", "{{.State.Running}}", "flood"])).stdout.trim();
        await Bun.sleep(25);
      }
      expect(running).toBe("true");
      await Bun.sleep(300); // the pipe fills
      const began = Date.now();
      await t.ok(["stop", "-t", "1", "flood"]);
      console.log(`faults.test: stop -t 1 with a stalled reader took ${Date.now() - began} ms`);
      expect((await t.ok(["inspect", "-f", "{{.State.ExitCode}} {{.State.Error}}", "flood"])).trim()).toBe("137");
    } finally {
      process.kill(-pipeline.pid, "SIGKILL");
      await pipeline.exited;
    }
    await t.ok(["rm", "-f", "flood"]);
    expect(t.leaks()).toEqual([]);
  });
});
