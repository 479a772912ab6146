// Faults the host throws at tsd: a root dir whose filesystem fills up while a container runs.
// The root lives on a small tmpfs this file mounts (and unmounts, whatever happens).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
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
      expect(full.code).toBe(1); // an engine error outside run: 1, as docker's CLI
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

describe("a lost or damaged database", () => {
  // Its own root (the tmpfs above is small) with its own bridge and subnet.
  let r: TestRoot;
  const subnet = `10.236.${process.pid % 250}`;
  const port = 26000 + (process.pid % 4000);
  const nftPorts = () => Bun.spawnSync(["sh", "-c", "nft list map ip tsd ports_any 2>/dev/null"]).stdout.toString();

  beforeAll(async () => {
    r = new TestRoot("dbloss");
    writeFileSync(join(r.dir, "network.json"), JSON.stringify({ bridge: `fl${process.pid}b0`, subnet: `${subnet}.0/24` }));
    await r.ok(["load", "-i", (await testImages()).busyboxDocker]);
  }, 120000);

  afterAll(async () => {
    await r.destroy();
  });

  test("deleted while a container runs: the next command rebuilds it; the container is kept and released as usual", async () => {
    const web = (await r.ok(["run", "-d", "--name", "web", "-p", `${port}:80`, "busybox", "sh", "-c", "echo up > /tmp/index.html; exec httpd -f -p 80 -h /tmp"])).trim();
    expect((await r.tsd(["run", "--name", "done", "--network", "none", "busybox", "sh", "-c", "exit 4"])).code).toBe(4);
    await r.ok(["volume", "create", "keep"]);
    for (const f of readdirSync(r.dir).filter((f) => f.startsWith("tsd.db"))) rmSync(join(r.dir, f));
    const ps = await r.tsd(["ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Ports}}"]);
    expect(ps.code).toBe(0);
    expect(ps.stderr).toContain("the state database was missing and has been rebuilt");
    expect(ps.stderr).toContain("2 containers (1 running, 1 exited, 0 created)");
    const lines = ps.stdout.trim().split("\n").sort();
    expect(lines[0]).toMatch(/^done Exited \(4\) /);
    expect(lines[1]).toMatch(new RegExp(`^web Up .* 0\\.0\\.0\\.0:${port}->80/tcp$`));
    expect((await r.ok(["images"])).split("\n")[1]).toMatch(/^busybox +latest /);
    expect(await r.ok(["volume", "ls", "-q"])).toBe("keep\n");
    // The published port still answers, and its lease is held: a new run gets another address.
    let body = "";
    for (let i = 0; i < 40 && body === ""; i++) {
      body = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(2000) }).then((x) => x.text()).catch(() => "");
      if (body === "") await Bun.sleep(50);
    }
    expect(body).toBe("up\n");
    const [info] = JSON.parse(await r.ok(["inspect", "web"]));
    const other = await r.ok(["run", "--rm", "busybox", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}'"]);
    expect(other.trim()).not.toBe(`${info.NetworkSettings.IPAddress}/24`);
    // Released as usual: the port rule, the namespace, the cgroup.
    await r.ok(["rm", "-f", "web", "done"]);
    expect(nftPorts()).not.toContain(`${port} :`);
    expect(existsSync(join(r.dir, "netns", web))).toBe(false);
    expect(r.leaks()).toEqual([]);
  });

  test("damaged: one line naming the way out; system repair keeps the file aside and rebuilds", async () => {
    await r.ok(["run", "--name", "kept", "--network", "none", "busybox", "true"]);
    for (const f of readdirSync(r.dir).filter((f) => f.startsWith("tsd.db-"))) rmSync(join(r.dir, f));
    writeFileSync(join(r.dir, "tsd.db"), "this is not an SQLite database, it is garbage".repeat(200));
    const broken = await r.tsd(["ps", "-a"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^tsd: the state database .*tsd\.db is damaged \(.*\): run 'tsd system repair', which keeps it as tsd\.db\.corrupt-\* and rebuilds it from the root dir\n$/);
    const repaired = await r.tsd(["system", "repair"]);
    expect(repaired.code).toBe(0);
    expect(repaired.stderr).toMatch(/^tsd: the damaged database is kept as .*tsd\.db\.corrupt-/);
    expect(repaired.stdout).toContain("recovered 1 containers (0 running, 1 exited, 0 created), 1 images");
    expect(readdirSync(r.dir).some((f) => f.startsWith("tsd.db.corrupt-"))).toBe(true);
    expect((await r.ok(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).trim()).toMatch(/^kept Exited \(0\) /);
    await r.ok(["rm", "kept"]);
    // The root's bridge (made by the first test) is known again: prune takes it down.
    await r.ok(["network", "prune", "-f"]);
    expect(readdirSync("/sys/class/net")).not.toContain(`fl${process.pid}b0`);
  });
});
