// Fault soak, by hand only (never part of the test suite): hundreds of commands SIGKILLed at
// random moments (the CLI of a run, run --rm, run -p, the monitor of a detached run, commit and
// load), then the root is checked for what was left: mounts, network namespaces, veths,
// cgroups, processes, temp files, rows; and every container that ran to its end without its
// monitor being killed must have its own exit code recorded, never -1.
//
//   sudo bun bench/fault-soak.ts [ITERATIONS=200] [SEED]
//
// The root is on tmpfs with its own bridge and subnet; it is removed at the end.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const TSD = process.env.TSD ?? join(repo, "dist/tsd");
const iterations = Number(process.argv[2] ?? 200);
let seed = Number(process.argv[3] ?? Date.now() % 100000);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31; // reproducible with the printed seed
  return seed / 2 ** 31;
};

const images = process.env.TSD_TEST_IMAGES ?? "/tmp/tsd-test-images";
if (Bun.spawnSync(["bash", join(repo, "test/fixtures/make-images.sh"), images]).exitCode !== 0) throw new Error("make-images.sh failed");
const root = mkdtempSync("/dev/shm/tsd-soak-");
const bridge = `soak${process.pid % 10000}`;
writeFileSync(join(root, "network.json"), JSON.stringify({ bridge, subnet: `10.238.${process.pid % 250}.0/24` }));

async function tsd(args: string[], o: { env?: Record<string, string> } = {}): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([TSD, "--root", root, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH!, ...o.env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** Starts `tsd ARGS`, SIGKILLs it after 0..maxMs; returns whether it was still running then. */
async function killedAfter(args: string[], maxMs: number): Promise<boolean> {
  const p = Bun.spawn([TSD, "--root", root, ...args], { stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(random() * maxMs);
  const alive = p.exitCode === null;
  p.kill("SIGKILL");
  await p.exited;
  return alive;
}

/** The monitor of a bundle: the process whose command line says --bundle DIR. */
function monitorOf(bundle: string): number | undefined {
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (args[args.indexOf("--bundle") + 1] === bundle && !args.includes("--exec")) return Number(p);
    } catch {
      // gone
    }
  }
  return undefined;
}

const counts: Record<string, { runs: number; killed: number }> = {};
const count = (k: string, killed: boolean) => {
  counts[k] ??= { runs: 0, killed: 0 };
  counts[k].runs++;
  if (killed) counts[k].killed++;
};
/** Containers whose monitor nobody killed: name → the exit code they must have recorded. */
const expected = new Map<string, number>();

await tsd(["load", "-i", join(images, "busybox-docker.tar")]);
await tsd(["run", "--name", "base", "--network", "none", "busybox", "sh", "-c", "echo x > /f"]);
const started = Date.now();
for (let i = 0; i < iterations; i++) {
  const kind = Math.floor(random() * 6);
  const name = `c${i}`;
  if (kind === 0) count("run (CLI killed)", await killedAfter(["run", "--name", name, "busybox", "sh", "-c", "exit 7"], 150));
  else if (kind === 1) count("run --rm (CLI killed)", await killedAfter(["run", "--rm", "--name", name, "busybox", "sh", "-c", "exit 7"], 150));
  else if (kind === 2) count("run -p (CLI killed)", await killedAfter(["run", "--name", name, "-p", `${30000 + i}:80`, "busybox", "sh", "-c", "sleep 0.1; exit 3"], 200));
  else if (kind === 3) {
    // The monitor of a detached run killed at a random moment (or not at all: then the code counts).
    const r = await tsd(["run", "-d", "--name", name, "busybox", "sh", "-c", "sleep 0.2; exit 5"]);
    const kill = random() < 0.5;
    if (r.code === 0 && kill) {
      await Bun.sleep(random() * 300);
      const id = (await tsd(["inspect", "-f", "{{.Id}}", name])).out.trim();
      const mon = id ? monitorOf(`${root}/containers/${id}`) : undefined;
      if (mon) process.kill(mon, "SIGKILL");
    } else if (r.code === 0) expected.set(name, 5);
    count("run -d (monitor killed at random)", kill);
  } else if (kind === 4) count("commit (killed)", await killedAfter(["commit", "base", `soak/img:${i}`], 120));
  else count("load (killed)", await killedAfter(["load", "-i", join(images, "busybox-oci.tar")], 60));
}
const soakMs = Date.now() - started;

// Let what runs end, then one command reconciles; then everything is removed.
await Bun.sleep(1500);
await tsd(["ps", "-a"]);
const lost: string[] = [];
for (const [name, code] of expected) {
  const r = await tsd(["inspect", "-f", "{{.State.ExitCode}}", name]);
  if (r.out.trim() !== String(code)) lost.push(`${name}: ${r.out.trim() || r.err.trim()}`);
}
const rows = (await tsd(["ps", "-aq", "--no-trunc"])).out.split("\n").filter(Boolean);
await tsd(["rm", "-f", ...rows]);
await tsd(["image", "prune", "-a", "-f"]);
await tsd(["load", "-i", join(images, "busybox-oci.tar")]); // sweeps dead loads' temp dirs
await tsd(["commit", "--help"]);

const left: string[] = [];
for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(root)) left.push(`mount ${line.split(" ")[4]}`);
for (const n of existsSync(join(root, "netns")) ? readdirSync(join(root, "netns")) : []) left.push(`netns ${n}`);
for (const id of rows) {
  for (const h of readdirSync("/sys/fs/cgroup")) if (existsSync(join("/sys/fs/cgroup", h, "tsd", id))) left.push(`cgroup ${h}/tsd/${id.slice(0, 12)}`);
  for (const l of readdirSync("/sys/class/net")) if (l.startsWith(`tv${id.slice(0, 12)}`)) left.push(`veth ${l}`);
}
for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
  try {
    if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(root)) left.push(`process ${p}`);
  } catch {
    // gone
  }
}
const tmp = join(root, "tmp");
for (const t of existsSync(tmp) ? readdirSync(tmp) : []) {
  if (t === "leases") for (const l of readdirSync(join(tmp, t))) left.push(`tmp/leases/${l}`);
  else left.push(`tmp/${t}`);
}
const remaining = (await tsd(["ps", "-aq"])).out.trim();
if (remaining) left.push(`rows: ${remaining.split("\n").length}`);

await tsd(["network", "prune", "-f"]);
rmSync(root, { recursive: true, force: true });
console.log(`fault soak: ${iterations} iterations in ${(soakMs / 1000).toFixed(1)} s, seed ${process.argv[3] ?? "(time)"}`);
for (const [k, v] of Object.entries(counts)) console.log(`  ${k}: ${v.runs} runs, ${v.killed} killed while running`);
console.log(`exit codes: ${expected.size - lost.length}/${expected.size} recorded${lost.length ? `; lost: ${lost.join(", ")}` : ""}`);
console.log(`left behind: ${left.length ? left.join(", ") : "nothing"}`);
process.exit(lost.length || left.length ? 1 : 0);
