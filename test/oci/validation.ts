// Runs every runtime-tools validation program (built by test/oci/build-tools.sh) against one
// OCI runtime binary and counts the TAP results with our own reader (test/oci/tap.ts).
//   bun test/oci/validation.ts RUNTIME [--tools DIR] [--timeout SECS] [--only NAME,...] [--list FILE]
//                              [--baseline FILE]   (test/oci/baseline-crun.txt: what is new, what is fixed)
//                              [--retry]           (with --baseline: a program with new failures runs
//                                                  again, up to RETRIES times, its last run counts; said in the output)
// With --baseline the last line is `validation: N of M programs as the baseline, K with new
// failures` and the exit status is 1 when K > 0 (test/oci/ci.sh counts programs from it).
// Each program runs in its own private mount namespace (`unshare -m --propagation private`:
// some leak mounts onto the host otherwise), under `timeout`, with RUNTIME naming a wrapper that
// gives the runtime a state dir of our own (`--root`), TMPDIR a dir of our own (the bundles).
// After each program any container left in that state dir is force-deleted; at the end the
// temp dir goes and new host mounts or cgroups are reported (and fail the run).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { countFile, parseTap, type FileCounts } from "./tap.ts";

/** --retry: the reruns of a program with new failures. runtime-tools races itself: killsig's
 *  `kill` follows `start` by a few ms and a pid namespace's init drops a signal it has no
 *  handler for yet (sh has not run its `trap`): about 1 run in 8 on a loaded 2-core host, for
 *  runc too; three runs in a row fail about once in 500. */
const RETRIES = 2;

interface Options { runtime: string; tools: string; timeout: number; only: string[]; list: string; baseline: string; retry: boolean }

function parseArgs(argv: string[]): Options {
  const o: Options = { runtime: "", tools: process.env.TSD_OCI_TOOLS || "/var/cache/tsd-oci", timeout: 120, only: [], list: "", baseline: "", retry: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--tools") o.tools = argv[++i] ?? "";
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else if (a === "--only") o.only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "--list") o.list = argv[++i] ?? "";
    else if (a === "--baseline") o.baseline = argv[++i] ?? "";
    else if (a === "--retry") o.retry = true;
    else if (!o.runtime) o.runtime = a;
    else fail(`unexpected argument ${a}`);
  }
  if (!o.runtime) fail("usage: validation.ts RUNTIME [--tools DIR] [--timeout SECS] [--only A,B] [--list FILE] [--baseline FILE]");
  if (!(o.timeout > 0)) fail("--timeout needs a positive number of seconds");
  return o;
}

function fail(msg: string): never {
  console.error(`validation: ${msg}`);
  process.exit(2);
}

function which(cmd: string): string {
  if (cmd.includes("/")) return resolve(cmd);
  const r = Bun.spawnSync(["sh", "-c", `command -v "$1"`, "sh", cmd]);
  const path = r.stdout.toString().trim();
  if (!path) fail(`runtime ${cmd} not found on PATH`);
  return path;
}

/** The directories under the cgroup mounts, two levels deep, and the host's mount points. */
function hostSnapshot(): { cgroups: Set<string>; mounts: Set<string> } {
  const cgroups = new Set<string>();
  const base = "/sys/fs/cgroup";
  const walk = (dir: string, depth: number) => {
    let names: string[] = [];
    try { names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name); } catch { return; }
    for (const n of names) {
      cgroups.add(join(dir, n));
      if (depth > 0) walk(join(dir, n), depth - 1);
    }
  };
  walk(base, 2);
  const mounts = new Set(readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter(Boolean));
  return { cgroups, mounts };
}

/** The cgroups runtime-tools' programs name (cgroupsPath /testdir/cgrouptest, or relative):
 *  a runtime removes the leaf at delete, never the parent. Removes any new since `before`
 *  (deepest first; a group still holding a process stays) and returns the leaves it found. */
function removeTestCgroups(before: Set<string>): string[] {
  const now = hostSnapshot().cgroups;
  const made = [...now].filter((c) => !before.has(c) && /\/(testdir|cgrouptest)(\/|$)/.test(c)).sort().reverse();
  const leaves = made.filter((c) => c.endsWith("/cgrouptest"));
  for (const c of made) Bun.spawnSync(["rmdir", c]);
  return leaves;
}

function makeWrapper(dir: string, runtime: string): string {
  const state = join(dir, "state");
  mkdirSync(state);
  const wrapper = join(dir, "runtime");
  writeFileSync(wrapper, `#!/bin/sh\nexec '${runtime}' --root '${state}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

function cleanupContainers(wrapper: string): string[] {
  const ids = Bun.spawnSync([wrapper, "list", "-q"]).stdout.toString().split("\n").filter(Boolean);
  for (const id of ids) Bun.spawnSync([wrapper, "delete", "--force", id]);
  return ids;
}

const UNIFIED_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers";

/** `unshare -m` and, on a v1-hybrid host whose cgroup2 mount lists controllers, a bind of
 *  /dev/null over that list: crun 1.8 refuses such a host outright ("cgroups in hybrid mode not
 *  supported, drop all controllers from cgroupv2"). Done for every runtime alike (runc ignores
 *  the file in hybrid mode), the host untouched; TSD_OCI_HIDE_CGROUP2=0 turns it off. */
function namespaceWrap(): { argv: string[]; note: string } {
  const argv = ["unshare", "-m", "--propagation", "private"];
  let listed = "";
  try { listed = readFileSync(UNIFIED_CONTROLLERS, "utf8").trim(); } catch { /* pure v1 or v2 */ }
  const hybrid = readFileSync("/proc/self/mountinfo", "utf8").includes(" /sys/fs/cgroup/unified ");
  if (process.env.TSD_OCI_HIDE_CGROUP2 === "0" || !listed || !hybrid) return { argv, note: "private mount namespace" };
  argv.push("sh", "-c", `mount --bind /dev/null ${UNIFIED_CONTROLLERS} && exec "$0" "$@"`);
  return { argv, note: `private mount namespace, ${UNIFIED_CONTROLLERS} hidden (it listed: ${listed})` };
}

async function runOne(o: Options, rt: string, name: string, wrapper: string, tmp: string): Promise<{ counts: FileCounts; failing: string[]; stderr: string }> {
  const proc = Bun.spawn([...namespaceWrap().argv, "timeout", "-k", "5", String(o.timeout), `./validation/${name}.t`], {
    cwd: rt, env: { ...process.env, RUNTIME: wrapper, TMPDIR: tmp }, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  const [out, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const summary = parseTap(out);
  const counts = countFile(summary, code === 124 || code === 137 ? null : code);
  const failing = summary.results.filter((r) => !r.ok && r.directive !== "todo").map((r) => `${name}: ${r.description}`);
  if (counts.broken) failing.push(`${name}: (${counts.broken})`);
  return { counts, failing, stderr };
}

/** Prints the failures not in the baseline and the baseline's failures that passed (of the
 *  programs that ran). Lines are `PROGRAM: description`; `#` lines are comments. */
function compareBaseline(file: string, failing: string[], ran: string[]): string[] {
  const base = readFileSync(file, "utf8").split("\n").filter((l) => l && !l.startsWith("#"))
    .filter((l) => ran.includes(l.split(":")[0]!));
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const [b, f] = [count(base), count(failing)];
  const diff = (x: Map<string, number>, y: Map<string, number>) => [...x].filter(([k, n]) => n > (y.get(k) ?? 0)).map(([k, n]) => `${k}${n - (y.get(k) ?? 0) > 1 ? ` (×${n - (y.get(k) ?? 0)})` : ""}`);
  const added = diff(f, b), fixed = diff(b, f);
  console.log(`\nagainst ${file}: ${added.length} new failure(s), ${fixed.length} baseline failure(s) passed`);
  for (const a of added) console.log(`  new:    ${a}`);
  for (const x of fixed) console.log(`  passed: ${x}`);
  return [...new Set(added.map((a) => a.split(":")[0]!))];
}

interface ProgramResult { counts: FileCounts; notOk: number; failing: string[] }

/** One program in its own TMPDIR; what it left (containers, cgroups) removed and said. */
async function runProgram(o: Options, rt: string, name: string, wrapper: string, dir: string, cgroupsBefore: Set<string>): Promise<ProgramResult> {
  // As /tmp: the bundles' parents must be searchable by a container's mapped uids
  // (linux_uid_mappings, linux_ns_nopath fail in a 0700 dir).
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  chmodSync(tmp, 0o1777);
  const r = await runOne(o, rt, name, wrapper, tmp);
  const left = cleanupContainers(wrapper);
  const groups = removeTestCgroups(cgroupsBefore);
  rmSync(tmp, { recursive: true, force: true });
  const notOk = r.counts.notOk + (r.counts.broken ? 1 : 0);
  const extra = [r.counts.broken, r.counts.noTests ? "ran no test, exit 0" : "", left.length ? `${left.length} container(s) left, deleted` : "",
    groups.length ? `${groups.length} cgroup(s) left, removed` : ""].filter(Boolean).join("; ");
  console.log(`${String(r.counts.ok).padStart(5)} ok ${String(notOk).padStart(3)} not ok ${String(r.counts.skipped).padStart(3)} skip  ${name}${extra ? `  (${extra})` : ""}`);
  const why = r.stderr.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 2).join(" | ").slice(0, 200);
  if (r.counts.broken && why) console.log(`                              # stderr: ${why}`);
  return { counts: r.counts, notOk, failing: r.failing };
}

function report(o: Options, runtime: string, names: string[], results: Map<string, ProgramResult>): string[] {
  const total = { ok: 0, notOk: 0, skipped: 0 };
  const failing: string[] = [];
  const noTests: string[] = [];
  for (const name of names) {
    const r = results.get(name)!;
    total.ok += r.counts.ok; total.notOk += r.notOk; total.skipped += r.counts.skipped;
    failing.push(...r.failing);
    if (r.counts.noTests) noTests.push(name);
  }
  console.log(`\n${total.ok} ok, ${total.notOk} not ok (${total.skipped} of the ok skipped) in ${names.length} programs, runtime ${runtime}`);
  if (noTests.length) console.log(`\nran no TAP test, exit 0 (their own pass; counted neither way): ${noTests.join(" ")}`);
  if (failing.length) console.log(`\nnot ok:\n${failing.map((f) => `  ${f}`).join("\n")}`);
  if (o.list) writeFileSync(o.list, `# ${total.ok} ok, ${total.notOk} not ok: ${runtime} (test/oci/README.md explains each)\n` + failing.map((f) => `${f}\n`).join(""));
  return o.baseline ? compareBaseline(o.baseline, failing, names) : [];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const runtime = which(o.runtime);
  const rt = join(o.tools, "runtime-tools");
  if (!existsSync(join(rt, "runtimetest"))) fail(`no runtime-tools in ${o.tools}: run bash test/oci/build-tools.sh ${o.tools}`);
  let names = readdirSync(join(rt, "validation")).filter((n) => n.endsWith(".t")).map((n) => n.slice(0, -2)).sort();
  if (o.only.length) names = names.filter((n) => o.only.includes(n));
  const before = hostSnapshot();
  const dir = mkdtempSync("/tmp/tsd-oci-validation-");
  chmodSync(dir, 0o755);
  const wrapper = makeWrapper(dir, runtime);
  console.log(`# ${runtime}: ${names.length} programs, ${namespaceWrap().note}, ${o.timeout} s each`);
  const results = new Map<string, ProgramResult>();
  let worse: string[] = [];
  try {
    for (const name of names) results.set(name, await runProgram(o, rt, name, wrapper, dir, before.cgroups));
    worse = report(o, runtime, names, results);
    for (let again = 1; o.retry && worse.length && again <= RETRIES; again++) {
      console.log(`\nonce more (--retry, ${again} of ${RETRIES}): ${worse.join(" ")}`);
      for (const name of worse) results.set(name, await runProgram(o, rt, name, wrapper, dir, before.cgroups));
      worse = report(o, runtime, names, results);
    }
  } finally {
    cleanupContainers(wrapper);
    rmSync(dir, { recursive: true, force: true });
  }
  if (o.baseline) console.log(`validation: ${names.length - worse.length} of ${names.length} programs as the baseline, ${worse.length} with new failures`);
  // Other processes on the host make cgroups and mounts too: only ours count.
  const after = hostSnapshot();
  const leaks = [...after.cgroups].filter((c) => !before.cgroups.has(c) && /\/(testdir|cgrouptest)(\/|$)/.test(c))
    .concat([...after.mounts].filter((m) => !before.mounts.has(m) && m.startsWith(dir)));
  if (leaks.length) {
    console.log(`\nleft on the host:\n${leaks.map((l) => `  ${l}`).join("\n")}`);
    process.exit(1);
  }
  if (worse.length) process.exit(1);
}

await main();
