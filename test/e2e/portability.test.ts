// tsd runs where users are (README "Portability"): the built artifacts need no more than
// x86-64-v2 (SSE4.2, no AVX), the floor of Bun's linux-x64 runtime. Checked twice: every
// instruction of libtsd.so and tsd-monitor by scripts/cpu-level.ts, and the real dist/tsd and
// tsd-monitor started under Debian's qemu-user with an emulated Nehalem (x86-64-v2, no AVX),
// against the same binaries on an emulated CPU below the floor, which must fail.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { beyondLevel } from "../../scripts/cpu-level";
import { testImages } from "../lib/fixtures";
import { TSD, TestRoot } from "../lib/tsd";

const repo = resolve(import.meta.dir, "../..");
const artifacts = { lib: join(repo, "zig-out/lib/libtsd.so"), monitor: join(repo, "zig-out/bin/tsd-monitor") };
const x86 = process.arch === "x64";
if (!x86) console.warn(`portability.test.ts: skipped on ${process.arch}: the x86-64 levels and qemu-x86_64 checks are x86-64 only`);
const qemu = Bun.which("qemu-x86_64");
const shaNi = "unpack.sha256.compressShaNi";

const t = new TestRoot("portability");
afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

/** Runs argv under qemu-x86_64 with CPU model `cpu`; code is 128+N when killed by signal N. */
async function emulated(cpu: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!qemu) throw new Error("qemu-x86_64 not found: apt-get install qemu-user (scripts/bootstrap.sh installs it)");
  const proc = Bun.spawn([qemu, "-cpu", cpu, ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  const signal = proc.signalCode ? constants.signals[proc.signalCode as NodeJS.Signals] : 0;
  return { code: signal ? 128 + signal : proc.exitCode!, stdout, stderr };
}

function sha256Prefix(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

describe.skipIf(!x86)("x86-64-v2 floor", () => {
  test("every instruction of libtsd.so and tsd-monitor is within x86-64-v2, but SHA-NI's dispatched one", () => {
    for (const file of [artifacts.lib, artifacts.monitor]) {
      const proc = Bun.spawnSync(["objdump", "-d", "--insn-width=16", "-M", "intel", file]);
      expect(proc.exitCode).toBe(0);
      const { instructions, excess, dispatched } = beyondLevel(proc.stdout.toString(), 2, [shaNi, "tsd_dispatched"]);
      expect(instructions).toBeGreaterThan(10000);
      expect(excess.map((e) => `${file}: ${e.feature} x${e.count}, e.g. ${e.example}`)).toEqual([]);
      // The unpacker's SHA-256 (zig/unpack/sha256.zig) is in both (tsd-monitor's copy helper
      // unpacks too): named for the check in libtsd, in its own section in the stripped monitor.
      expect(file === artifacts.lib ? dispatched[shaNi] : dispatched["tsd_dispatched"]).toBeGreaterThan(0);
    }
  });

  test("dist/tsd starts on an emulated Nehalem and runs the libtsd.so checked above", async () => {
    // --version dlopens libtsd (written under --root, named by its hash) and asks its version.
    const version = await emulated("Nehalem", [TSD, "--root", t.dir, "--version"]);
    expect(version.stderr).toBe("");
    expect(version.stdout).toMatch(/^tsd version \S+, core \S+\n$/);
    expect(version.code).toBe(0);
    const written = readdirSync(join(t.dir, "bin")).filter((h) => existsSync(join(t.dir, "bin", h, "libtsd.so")));
    expect(written).toEqual([sha256Prefix(artifacts.lib)]);
    // `images` opens the store (bun:sqlite).
    const images = await emulated("Nehalem", [TSD, "--root", t.dir, "images"]);
    expect(images.stderr).toBe("");
    expect(images.stdout.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(images.code).toBe(0);
  }, 120000);

  test("tsd-monitor starts on an emulated Nehalem (its usage error, not SIGILL)", async () => {
    const r = await emulated("Nehalem", [artifacts.monitor]);
    expect(r.stderr).toMatch(/^tsd-monitor \S+: missing --bundle/);
    expect(r.code).toBe(125);
  });

  test("control: below the floor (qemu64: SSE3, no SSSE3/SSE4/POPCNT) both die with SIGILL", async () => {
    // Shows the emulated CPU model is enforced, so the Nehalem runs above prove something.
    expect((await emulated("qemu64", [TSD, "--version"])).code).toBe(128 + 4);
    expect((await emulated("qemu64", [artifacts.monitor])).code).toBe(128 + 4);
  }, 120000);
});

// A compiled Bun program reads ./bunfig.toml (running its `preload` scripts) and ./.env from
// the directory it starts in, unless built not to (scripts/compile.sh). tsd runs as root in
// checkouts and build contexts other people wrote: nothing there may run or set its environment.
describe("the working directory is data, not configuration", () => {
  test("a bunfig.toml preload and a .env in the working directory are ignored", async () => {
    const cwd = mkdtempSync("/tmp/tsd-e2e-cwd-");
    try {
      const marker = join(cwd, "preload-ran");
      writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
      writeFileSync(join(cwd, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
      // TSD_FAULT=create:inserted makes `create` SIGKILL itself (src/fault.ts): read, it shows.
      writeFileSync(join(cwd, ".env"), "TSD_FAULT=create:inserted\n");
      expect(await t.tsd(["version"], { cwd })).toMatchObject({ code: 0, stderr: "" });
      await t.ok(["load", "-i", (await testImages()).busyboxDocker], { cwd });
      const created = await t.tsd(["create", "--network", "none", "busybox:latest", "true"], { cwd });
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
      expect(existsSync(marker)).toBe(false);
      await t.ok(["rm", created.stdout.trim()]);
      // Control: the same variable from the real environment does take effect.
      expect((await t.tsd(["create", "--network", "none", "busybox:latest", "true"], { env: { TSD_FAULT: "create:inserted" } })).code).toBe(137);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 60000);
});
