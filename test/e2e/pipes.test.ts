// Streams both ways (issue 14): every command that prints ends at once and quietly (status
// 141, as docker) when its reader goes; save | load, load < file, import from stdin; cp to
// stdout and from stdin (docker's names and rules, a hostile tar contained); cp's directory
// rules as docker 20.10's; a signal ends load, import and export -o with nothing left (no
// scratch dir, no FILE.tmp-PID, no helper process, no mount). Docker's behaviour was
// observed with Debian's docker.io (20.10.24) on this machine; the expectations below are
// what it did.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processes, TestRoot, TSD } from "../lib/tsd";
import { testImages, type TestImages } from "../lib/fixtures";
import { tempDir } from "../lib/registry";

let images: TestImages;
let t: TestRoot;
let work: string;

beforeAll(async () => {
  images = await testImages();
  t = new TestRoot("pipes");
  work = tempDir("pipes");
  await t.ok(["load", "-i", images.busyboxDocker]);
  await t.ok(["create", "--name", "box", "--network", "none", "busybox", "true"]);
  mkdirSync(join(work, "src/sub"), { recursive: true });
  writeFileSync(join(work, "src/f"), "hi\n");
  writeFileSync(join(work, "src/sub/g"), "g\n");
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  rmSync(work, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

/** A bash script in which `tsd` is `root`'s dist/tsd under `timeout -s KILL`; every stage's status. */
async function pipeline(script: string, root = t.dir, limitSec = 60): Promise<{ status: number[]; stderr: string; stdout: string }> {
  const proc = Bun.spawn(["bash", "-c", `tsd() { timeout -s KILL ${limitSec} ${TSD} --root ${root} "$@"; }\n${script}\necho "@@status=\${PIPESTATUS[*]}"`], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    cwd: work,
  });
  const [out, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const m = /@@status=([\d ]+)\n$/.exec(out);
  if (!m) throw new Error(`no status from: ${script}\n${stderr}`);
  return { status: m[1]!.trim().split(" ").map(Number), stderr, stdout: out.slice(0, m.index) };
}

function tmpLeft(root: string): string[] {
  const d = join(root, "tmp");
  return existsSync(d) ? readdirSync(d).filter((n) => n !== "leases") : [];
}

/** Helpers (tsd-monitor --pack/--copy, tsd image unpack) of this root still alive, and its mounts. */
function helpersAndMounts(root: string): string[] {
  const out: string[] = [];
  for (const { pid, cmdline } of processes()) {
    const cmd = cmdline.replaceAll("\0", " ");
    if (cmd.includes(root) && /--pack|--copy|image unpack| load| import| export| save/.test(cmd)) out.push(`process ${pid}: ${cmd.slice(0, 200)}`);
  }
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(root)) out.push(`mount: ${line}`);
  return out;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(50);
  }
  return cond();
}

describe("every command's stdout: a reader that went away ends it at once with 141, quietly", () => {
  // The reader is gone before the command writes (`sleep` first): any write meets EPIPE.
  const commands = [["ps", "-a"], ["images"], ["inspect", "box"], ["image", "inspect", "busybox"], ["history", "busybox"], ["version"], ["--help"], ["network", "ls"], ["volume", "ls"], ["stats", "--no-stream", "-a"], ["cp", "box:/etc", "-"]];
  for (const args of commands) {
    test(args.join(" "), async () => {
      const r = await pipeline(`{ sleep 0.3; tsd ${args.join(" ")}; } | true`);
      expect(r.stderr).toBe("");
      expect(r.status).toEqual([141, 0]);
    });
  }
});

describe("archives through pipes", () => {
  test("tsd save | tsd load and tsd load < file into a fresh root: the same image id", async () => {
    const fresh = new TestRoot("pipes-fresh");
    try {
      const id = (await t.ok(["images", "-q", "--no-trunc", "busybox"])).trim();
      const r = await pipeline(`tsd save busybox | tsd2 load\ntsd2 rmi busybox >/dev/null\ntsd2 load < ${images.busyboxOci}`.replaceAll("tsd2", `${TSD} --root ${fresh.dir}`));
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("Loaded image: busybox:latest");
      expect((await fresh.ok(["images", "-q", "--no-trunc"])).trim().split("\n")).toContain(id);
      expect(tmpLeft(fresh.dir)).toEqual([]);
    } finally {
      await fresh.destroy();
    }
  }, 60000);

  test("cat fs.tar | tsd import - NAME, and tsd export | tsd import -", async () => {
    const r = await pipeline(`tsd export box | tsd import - flat:1 >/dev/null\ntsd export box > fs.tar\ncat fs.tar | tsd import - flat:2 >/dev/null`);
    expect(r.stderr).toBe("");
    expect(r.status).toEqual([0, 0]);
    const out = await t.ok(["run", "--rm", "--network", "none", "flat:2", "/bin/busybox", "cat", "/etc/passwd"]);
    expect(out).toContain("root:");
    expect(tmpLeft(t.dir)).toEqual([]);
  }, 60000);

  test("save | head -c, export | head -c, cp | head -c: 141 at once, no helper process or mount left", async () => {
    // A container with 64 MiB of data: far more than a pipe holds.
    await t.ok(["create", "--name", "fat", "--network", "none", "busybox", "true"]);
    writeFileSync(join(work, "blob"), new Uint8Array(64 << 20).fill(7));
    await t.ok(["cp", join(work, "blob"), "fat:/blob"]);
    await t.ok(["commit", "fat", "fat:1"]);
    const r = await pipeline(`tsd save fat:1 | head -c 1000 >/dev/null\ntsd export fat | head -c 1000 >/dev/null\ntsd cp fat:/blob - | head -c 1000 >/dev/null`, t.dir, 30);
    expect(r.stderr).toBe("");
    expect(r.status).toEqual([141, 0]);
    const each = await pipeline(`tsd save fat:1 | head -c 1000 >/dev/null; echo "\${PIPESTATUS[*]}"\ntsd export fat | head -c 1000 >/dev/null`, t.dir, 30);
    expect(each.stdout.trim()).toBe("141 0");
    expect(each.status).toEqual([141, 0]);
    expect(await until(() => helpersAndMounts(t.dir).length === 0, 5000)).toBe(true);
    expect(helpersAndMounts(t.dir)).toEqual([]);
    expect(tmpLeft(t.dir)).toEqual([]);
  }, 120000);
});

/** `command` reading a pipe that stalls after 20000 bytes of `file`, sent SIG`sig` a second in. */
function stalled(file: string, command: string, sig: string): string {
  return `rm -f stall.fifo; mkfifo stall.fifo; (head -c 20000 ${file}; exec sleep 20) > stall.fifo 2>/dev/null & w=$!
${command} < stall.fifo & p=$!; sleep 1; kill -${sig} $p; wait $p; s=$?; kill $w; rm -f stall.fifo; (exit $s)`;
}

describe("a signal ends load, import and export -o with nothing left", () => {
  test("load from a stalled pipe: SIGTERM ends it (143), its scratch dir and unpacking child gone", async () => {
    const script = stalled(images.busyboxDocker, `${TSD} --root ${t.dir} load`, "TERM");
    const r = await pipeline(script);
    expect(r.status[0]).toBe(143);
    expect(tmpLeft(t.dir)).toEqual([]);
    expect(helpersAndMounts(t.dir)).toEqual([]);
  }, 60000);

  test("import - from a stalled pipe: SIGINT ends it (130) and removes the spool", async () => {
    const script = stalled(images.busyboxOci, `${TSD} --root ${t.dir} import - stalled:1`, "INT");
    const r = await pipeline(script);
    expect(r.status[0]).toBe(130);
    expect(tmpLeft(t.dir)).toEqual([]);
  }, 60000);

  test("export -o FILE: SIGTERM mid-way leaves no FILE.tmp-PID, no half FILE, no helper, no mount", async () => {
    const out = join(work, "sig-out");
    mkdirSync(out, { recursive: true });
    const whole = Number((await pipeline(`tsd export fat | wc -c`)).stdout.trim());
    await pipeline(`${TSD} --root ${t.dir} export -o ${out}/fs.tar fat & sleep 0.1; kill -TERM $!; wait`);
    // The signal comes mid-export or (a fast machine) after it: never a partial file.
    const left = readdirSync(out);
    expect(left.filter((n) => n !== "fs.tar")).toEqual([]);
    if (left.includes("fs.tar")) expect(statSync(join(out, "fs.tar")).size).toBe(whole);
    expect(await until(() => helpersAndMounts(t.dir).length === 0, 5000)).toBe(true);
    expect(helpersAndMounts(t.dir)).toEqual([]);
  }, 60000);
});

describe("cp and stdio", () => {
  test("cp CONTAINER:PATH - names entries as docker does", async () => {
    const r = await pipeline(`tsd cp box:/etc - | tar t | sort | head -2\ntsd cp box:/etc/. - | tar t | sort | head -2\ntsd cp box:/etc/passwd - | tar t\ntsd cp box:/bin/sh - | tar tv | cut -c1 `);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("etc/\netc/group\n./\n./group\npasswd\nl\n");
  });

  test("cp - CONTAINER:DIR extracts into an existing directory only; errors as docker", async () => {
    await t.ok(["create", "--name", "sink", "--network", "none", "busybox", "true"]);
    const r = await pipeline(`tar -C src -c . | tsd cp - sink:/root\ntsd cp sink:/root - | tar t | sort | tr '\\n' ' '`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("root/ root/f root/sub/ root/sub/g ");
    const bad = await pipeline(
      [
        "tar -C src -c . | tsd cp - sink:/nonexist",
        "tar -C src -c . | tsd cp - sink:/etc/passwd",
        "echo garbage | tsd cp - sink:/root",
        "tsd cp - /tmp/x < /dev/null",
        "tsd cp - - < /dev/null",
      ].join("; echo \"rc=$?\" >&2\n") + '; echo "rc=$?" >&2',
    );
    expect(bad.stderr.split("\n").filter(Boolean)).toEqual([
      `tsd: copy failed: destination "/nonexist" must be a directory in the container`,
      "rc=1",
      `tsd: copy failed: destination "/etc/passwd" must be a directory in the container`,
      "rc=1",
      expect.stringMatching(/^tsd: copy failed: copy "\/root": archive is truncated/),
      "rc=1",
      `tsd: "-" goes with CONTAINER:PATH on the other side: one of SRC and DEST must be CONTAINER:PATH`,
      "rc=1",
      `tsd: "-" goes with CONTAINER:PATH on the other side: one of SRC and DEST must be CONTAINER:PATH`,
      "rc=1",
    ]);
    // An empty stdin copies nothing, successfully (docker: the same).
    expect((await pipeline("tsd cp - sink:/root < /dev/null")).status).toEqual([0]);
  });

  test("cp - with a running container: into its mount namespace", async () => {
    await t.ok(["run", "-d", "--name", "live", "--network", "none", "busybox", "sleep", "300"]);
    const r = await pipeline(`tar -C src -c f | tsd cp - live:/tmp\ntsd exec live cat /tmp/f\ntsd cp live:/tmp/f - | tar xO`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hi\nhi\n");
    await t.ok(["rm", "-f", "live"]);
  }, 60000);

  test("a hostile tar on cp - stdin writes nothing outside the destination", async () => {
    // ../ climbing out, an absolute name, a symlink out and a write through it.
    const py = `
import tarfile, io
t = tarfile.open("evil.tar", "w")
def add(name, data=b"x", **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(i, k, v)
    if i.type == tarfile.REGTYPE:
        i.size = len(data); t.addfile(i, io.BytesIO(data))
    else: t.addfile(i)
add("../../pipes-evil-1")
add("/pipes-evil-2")
add("up", type=tarfile.SYMTYPE, linkname="../../../..")
add("up/pipes-evil-3")
add("etc", type=tarfile.SYMTYPE, linkname="/etc")
add("etc/pipes-evil-4")
t.close()
`;
    writeFileSync(join(work, "evil.py"), py);
    await t.ok(["create", "--name", "target", "--network", "none", "busybox", "true"]);
    const r = await pipeline(`python3 evil.py\ntsd cp - target:/home < evil.tar`);
    expect(r.status[0]).toBe(1);
    const listing = await pipeline(`tsd export target | tar t`);
    const names = listing.stdout.split("\n").filter((n) => n.includes("pipes-evil"));
    // Whatever the unpacker kept, it is under /home.
    for (const n of names) expect(n.startsWith("home/")).toBe(true);
    for (const p of ["/pipes-evil-1", "/pipes-evil-2", "/pipes-evil-3", "/etc/pipes-evil-4", "/tmp/pipes-evil-1", "/dev/shm/pipes-evil-1", join(t.dir, "pipes-evil-1")]) expect(existsSync(p)).toBe(false);
  });
});

describe("cp's directory rules, as docker 20.10", () => {
  test("out of the container", async () => {
    const dir = join(work, "rules-out");
    mkdirSync(join(dir, "ex"), { recursive: true });
    mkdirSync(join(dir, "ex2"), { recursive: true });
    writeFileSync(join(dir, "afile"), "");
    const cases: [string, string, number][] = [
      ["box:/etc", "ex", 0], // into an existing directory: ex/etc
      ["box:/etc", "newdir", 0], // a new name: newdir holds /etc's entries
      ["box:/etc/.", "ex2", 0], // contents into an existing directory
      ["box:/etc/.", "newdir2", 0], // contents to a new directory
      ["box:/etc/passwd", "ex2/", 0],
      ["box:/etc/passwd", "nodir/", 1], // docker: "no such directory"
      ["box:/etc/passwd", "nodir/x", 1], // docker: directory "nodir" does not exist
      ["box:/etc/passwd/", "f1", 1], // docker: not a directory
      ["box:/etc/", "f2", 0],
      ["box:/etc", "afile", 1], // docker: "cannot copy directory"
      ["box:/etc/passwd", "afile", 0], // overwrites the file
      ["box:/etc/passwd", "afile/", 1], // docker: not a directory
      ["box:/nonexist", "x", 1],
      ["box:/etc/passwd/.", "y", 1],
    ];
    const got: [string, string, number][] = [];
    for (const [src, dest] of cases) {
      const r = await pipeline(`cd rules-out && tsd cp ${src} ${dest}`);
      if (r.status[0] !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
      got.push([src, dest, r.status[0]!]);
    }
    expect(got).toEqual(cases);
    expect(readdirSync(dir).sort()).toEqual(["afile", "ex", "ex2", "f2", "newdir", "newdir2"]);
    expect(readdirSync(join(dir, "ex"))).toEqual(["etc"]);
    expect(readdirSync(join(dir, "newdir"))).toContain("passwd");
    expect(readdirSync(join(dir, "ex2")).sort()).toContain("group");
    expect(readdirSync(join(dir, "newdir2"))).toContain("passwd");
    expect(statSync(join(dir, "afile")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "afile"), "utf8")).toContain("root:");
  }, 120000);

  test("into the container", async () => {
    await t.ok(["create", "--name", "rin", "--network", "none", "busybox", "true"]);
    const cases: [string, string, number][] = [
      ["src/f", "rin:/tmp/newf", 0],
      ["src/f", "rin:/nodir/", 1], // docker: "no such directory"
      ["src/f", "rin:/nodir/x", 1],
      ["src/f", "rin:/etc/passwd", 0],
      ["src/f", "rin:/tmp", 0],
      ["src", "rin:/tmp/newd", 0],
      ["src", "rin:/etc/passwd", 1], // docker: "cannot copy directory"
      ["src", "rin:/tmp", 0],
      ["src/.", "rin:/tmp/newd2", 0],
      ["src/.", "rin:/root", 0],
      ["src/f/", "rin:/tmp", 1], // docker: not a directory
      ["nonexist", "rin:/tmp", 1],
      ["src/f", "rin:/etc/passwd/", 1],
      ["src", "rin:/tmp/newd3/", 0],
    ];
    const got: [string, string, number][] = [];
    for (const [src, dest] of cases) got.push([src, dest, (await pipeline(`tsd cp ${src} ${dest}`)).status[0]!]);
    expect(got).toEqual(cases);
    const r = await pipeline(`tsd export rin | tar t | grep -E '^(tmp|root|nodir)' | sort | tr '\\n' ' '`);
    // What docker 20.10 left in the same container after the same commands.
    expect(r.stdout).toBe(
      "root/ root/f root/sub/ root/sub/g tmp/ tmp/f tmp/newd/ tmp/newd/f tmp/newd/sub/ tmp/newd/sub/g tmp/newd2/ tmp/newd2/f tmp/newd2/sub/ tmp/newd2/sub/g tmp/newd3/ tmp/newd3/f tmp/newd3/sub/ tmp/newd3/sub/g tmp/newf tmp/src/ tmp/src/f tmp/src/sub/ tmp/src/sub/g ",
    );
    const pw = await pipeline(`tsd cp rin:/etc/passwd - | tar xO`);
    expect(pw.stdout).toBe("hi\n");
    expect(lstatSync(join(work, "src")).isDirectory()).toBe(true);
  }, 120000);
});
