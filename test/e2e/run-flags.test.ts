// run/create's metadata and CLI flags (issue 14 item 4) and Docker's exit statuses (item 6),
// against the built dist/tsd with real containers: --mount, -v's missing source, --label(-file),
// --cidfile, --stop-signal/--stop-timeout, --volumes-from, --expose with -P, --platform,
// --log-driver, -a, --sig-proxy=false, --detach-keys; failed starts; rmi -f of an image in use.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(30000);

let t: TestRoot;
let host: string; // bind sources, label files, cidfiles
const net = ["--network", "none"];

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("runflags");
  // Its own bridge and subnet (from the pid): another checkout may run this file at once.
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge: `rf${process.pid}b0`, subnet: `10.229.${process.pid % 250}.0/24` }));
  host = mkdtempSync("/tmp/tsd-e2e-runflags-");
  await t.ok(["load", "-i", images.busyboxDocker]);
  // An image with labels, a STOPSIGNAL and an EXPOSE; and one without any command.
  await t.ok(["create", "--name", "base", ...net, "busybox", "true"]);
  await t.ok(["commit", "-c", "LABEL img=1 shared=image", "-c", "STOPSIGNAL SIGUSR2", "-c", "EXPOSE 8080", "base", "labeled:1"]);
  await t.ok(["rm", "base"]);
  const tar = join(host, "rootfs.tar");
  expect(Bun.spawnSync(["tar", "-C", images.rootfs, "-cf", tar, "."]).exitCode).toBe(0);
  await t.ok(["import", tar, "flat:1"]);
}, 120000);

afterAll(async () => {
  const ids = (await t.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await t.tsd(["rm", "-f", ...ids]);
  const leaks = t.leaks();
  await t.destroy();
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(host)).reverse()) {
    Bun.spawnSync(["umount", "-l", m]);
  }
  rmSync(host, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

const inspect = async (ref: string, tpl: string) => (await t.ok(["inspect", "-f", tpl, ref])).trim();
const json = async (ref: string, tpl: string) => JSON.parse(await inspect(ref, `{{json ${tpl}}}`));

async function until(fn: () => Promise<boolean> | boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(25);
  }
}

describe("--mount", () => {
  test("bind (read-only), tmpfs (size, mode), named volume, anonymous volume; inspect shows them as Docker", async () => {
    const src = join(host, "bind-ro");
    mkdirSync(src);
    writeFileSync(join(src, "f"), "from-host\n");
    const r = await t.tsd([
      "run", "--name", "mnt", ...net,
      "--mount", `type=bind,src=${src},dst=/b,readonly`,
      "--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
      "--mount", "type=volume,source=mvol,target=/etc",
      "--mount", "type=volume,target=/anon",
      "busybox", "sh", "-c", "cat /b/f; touch /b/x 2>/dev/null || echo ro; stat -c %a /t; grep ' /t ' /proc/mounts; test -s /etc/passwd && echo filled",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^from-host\nro\n1770\ntmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770 0 0\nfilled\n$/);
    expect(await json("mnt", ".HostConfig.Mounts")).toEqual([
      { Type: "bind", Source: src, Target: "/b", ReadOnly: true },
      { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } },
      { Type: "volume", Source: "mvol", Target: "/etc" },
      { Type: "volume", Target: "/anon" },
    ]);
    const mounts = (await json("mnt", ".Mounts")) as { Type: string; Destination: string; RW: boolean; Name?: string }[];
    expect(mounts.map((m) => [m.Type, m.Destination, m.RW])).toEqual([["bind", "/b", false], ["volume", "/etc", true], ["volume", "/anon", true], ["tmpfs", "/t", true]]);
    expect(mounts[1]!.Name).toBe("mvol");
    expect(await json("mnt", ".HostConfig.Binds")).toBeNull();
    await t.ok(["rm", "-v", "mnt"]);
  });

  test("volume-nocopy leaves a new volume empty (without it the image's files are copied in)", async () => {
    const r = await t.ok(["run", "--rm", ...net, "--mount", "type=volume,src=nocopy,dst=/etc,volume-nocopy", "busybox", "ls", "-A", "/etc"]);
    expect(r).toBe("");
    expect(readdirSync(join(t.dir, "volumes", "nocopy", "_data"))).toEqual([]);
  });

  test("bind-propagation=rslave: a mount made on the host afterwards shows in the container", async () => {
    const src = join(host, "shared");
    mkdirSync(src);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "rf-shared", src]).exitCode).toBe(0);
    try {
      expect(Bun.spawnSync(["mount", "--make-shared", src]).exitCode).toBe(0);
      const id = (await t.ok(["run", "-d", ...net, "--mount", `type=bind,src=${src},dst=/b,bind-propagation=rslave`, "busybox", "sleep", "300"])).trim();
      const spec = JSON.parse(readFileSync(join(t.dir, "containers", id, "config.json"), "utf8"));
      expect(spec.linux.rootfsPropagation).toBe("rslave");
      mkdirSync(join(src, "sub"));
      expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "rf-sub", join(src, "sub")]).exitCode).toBe(0);
      writeFileSync(join(src, "sub", "late"), "x");
      expect(await t.ok(["exec", id, "ls", "/b/sub"])).toBe("late\n");
      expect(await json(id, ".Mounts")).toEqual([{ Type: "bind", Source: src, Destination: "/b", Mode: "", RW: true, Propagation: "rslave" }]);
      await t.ok(["rm", "-f", id]);
    } finally {
      Bun.spawnSync(["umount", join(src, "sub")]);
      Bun.spawnSync(["umount", src]);
    }
  });

  test("a missing bind source is an error for --mount (nothing is left), -v creates it", async () => {
    const before = t.containerDirs().length;
    const missing = join(host, "no", "such");
    const r = await t.tsd(["run", "--rm", ...net, "--mount", `type=bind,src=${missing},dst=/b`, "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`tsd: invalid mount config for type "bind": bind source path does not exist: ${missing}: create it first\n`);
    expect(t.containerDirs().length).toBe(before);
    expect(existsSync(missing)).toBe(false);
    expect(await t.ok(["run", "--rm", ...net, "-v", `${missing}:/b`, "busybox", "sh", "-c", "echo made > /b/f"])).toBe("");
    expect(statSync(missing).isDirectory()).toBe(true);
    expect(readFileSync(join(missing, "f"), "utf8")).toBe("made\n");
  });

  test("bad values: 125 and one line", async () => {
    for (const [arg, msg] of [
      ["type=bind,src=/tmp", 'tsd: invalid argument "type=bind,src=/tmp" for "--mount" flag: target is required\n'],
      ["type=tmpfs,dst=/t,volume-nocopy", `tsd: invalid argument "type=tmpfs,dst=/t,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'tmpfs'\n`],
      ["type=bind,src=/tmp,dst=rel", `tsd: invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute\n`],
    ]) {
      const r = await t.tsd(["run", "--rm", ...net, "--mount", arg!, "busybox", "true"]);
      expect([r.code, r.stderr]).toEqual([125, msg!]);
    }
    // The daemon's checks are engine errors: 1 for create, as docker's CLI.
    const created = await t.tsd(["create", ...net, "--mount", "type=bind,src=/tmp,dst=rel", "busybox", "true"]);
    expect([created.code, created.stderr]).toEqual([1, `tsd: invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute\n`]);
  });
});

describe("metadata", () => {
  test("--label and --label-file merge over the image's labels (Config.Labels)", async () => {
    const file = join(host, "labels");
    writeFileSync(file, "# team labels\nfile=yes\nshared=file\n\n");
    await t.ok(["create", "--name", "lab", ...net, "--label-file", file, "-l", "shared=flag", "--label", "flag=1", "labeled:1", "true"]);
    expect(await json("lab", ".Config.Labels")).toEqual({ img: "1", file: "yes", shared: "flag", flag: "1" });
    expect(await json("lab", ".Config.ExposedPorts")).toEqual({ "8080/tcp": {} });
    expect(await t.ok(["ps", "-a", "--filter", "label=img=1", "--filter", "label=flag", "--format", "{{.Names}}"])).toBe("lab\n");
    expect(await t.ok(["ps", "-a", "--filter", "label=img=2", "--format", "{{.Names}}"])).toBe("");
    await t.ok(["rm", "lab"]);
    const plain = (await t.ok(["create", ...net, "busybox", "true"])).trim();
    expect(await json(plain, ".Config.Labels")).toEqual({});
    await t.ok(["rm", plain]);
    const bad = await t.tsd(["create", ...net, "--label-file", join(host, "none"), "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, `tsd: cannot read label file "${join(host, "none")}": ENOENT\n`]);
  });

  test("--cidfile: written with the id; an existing file is refused; a failed create removes its claim", async () => {
    const cid = join(host, "cid");
    const id = (await t.ok(["run", "-d", ...net, "--cidfile", cid, "busybox", "sleep", "300"])).trim();
    expect(readFileSync(cid, "utf8")).toBe(id);
    const again = await t.tsd(["run", "--rm", ...net, "--cidfile", cid, "busybox", "true"]);
    expect([again.code, again.stderr]).toEqual([125, `tsd: container ID file found, make sure the other container isn't running or delete ${cid}\n`]);
    expect(readFileSync(cid, "utf8")).toBe(id);
    await t.ok(["rm", "-f", id]);
    const other = join(host, "cid2");
    const failed = await t.tsd(["create", ...net, "--cidfile", other, "--volumes-from", "nosuch", "busybox", "true"]);
    expect(failed.code).toBe(1);
    expect(existsSync(other)).toBe(false);
  });

  test("--stop-signal and --stop-timeout are what stop uses; the image's STOPSIGNAL is the default", async () => {
    const trap = "trap 'echo got-$1; exit 3' $1; echo ready; while true; do sleep 0.1; done";
    const own = (await t.ok(["run", "-d", ...net, "--stop-signal", "SIGUSR1", "--stop-timeout", "30", "busybox", "sh", "-c", trap, "sh", "USR1"])).trim();
    const fromImage = (await t.ok(["run", "-d", ...net, "labeled:1", "sh", "-c", trap, "sh", "USR2"])).trim();
    for (const id of [own, fromImage]) await until(async () => (await t.ok(["logs", id])).includes("ready"));
    expect(await inspect(own, "{{.Config.StopSignal}} {{.Config.StopTimeout}}")).toBe("SIGUSR1 30");
    expect(await inspect(fromImage, "{{.Config.StopSignal}}")).toBe("SIGUSR2");
    await t.ok(["stop", own, fromImage]);
    expect(await t.ok(["logs", own])).toBe("ready\ngot-USR1\n");
    expect(await t.ok(["logs", fromImage])).toBe("ready\ngot-USR2\n");
    expect(await inspect(own, "{{.State.ExitCode}}")).toBe("3");
    // A container that ignores the signal is killed after its own timeout, not after 10 s.
    const stubborn = (await t.ok(["run", "-d", ...net, "--stop-timeout", "1", "busybox", "sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"])).trim();
    await until(async () => (await t.ok(["logs", stubborn])).includes("ready"));
    const started = Date.now();
    await t.ok(["stop", stubborn]);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await inspect(stubborn, "{{.State.ExitCode}}")).toBe("137");
    await t.ok(["rm", own, fromImage, stubborn]);
    const bad = await t.tsd(["run", "--rm", ...net, "--stop-signal", "SIGNOPE", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, "tsd: invalid signal: SIGNOPE: use a name like SIGTERM or USR1, or a number\n"]);
  });

  test("--volumes-from C[:ro]: the other container's volumes and binds, read-only when asked", async () => {
    const src = join(host, "vf");
    mkdirSync(src);
    await t.ok(["create", "--name", "donor", ...net, "-v", "vfvol:/data", "-v", `${src}:/bind`, "busybox", "true"]);
    expect(await t.ok(["run", "--rm", ...net, "--volumes-from", "donor", "busybox", "sh", "-c", "echo v > /data/f; echo b > /bind/f"])).toBe("");
    const ro = await t.tsd(["run", "--name", "taker", ...net, "--volumes-from", "donor:ro", "busybox", "sh", "-c", "cat /data/f /bind/f; touch /data/g || echo ro"]);
    expect(ro.stdout).toBe("v\nb\nro\n");
    expect(await json("taker", ".HostConfig.VolumesFrom")).toEqual(["donor:ro"]);
    expect(((await json("taker", ".Mounts")) as { Destination: string; RW: boolean }[]).map((m) => [m.Destination, m.RW])).toEqual([["/data", false], ["/bind", false]]);
    // The volume is in use by both: it stays until both are gone.
    expect((await t.tsd(["volume", "rm", "vfvol"])).code).toBe(1);
    await t.ok(["rm", "-v", "taker", "donor"]);
    await t.ok(["volume", "rm", "vfvol"]);
    const missing = await t.tsd(["run", "--rm", ...net, "--volumes-from", "nosuch", "busybox", "true"]);
    expect([missing.code, missing.stderr]).toEqual([125, "tsd: no such container: nosuch (for --volumes-from nosuch)\n"]);
  });

  test("--expose adds to Config.ExposedPorts, and -P publishes those ports too", async () => {
    const id = (await t.ok(["run", "-d", "-P", "--expose", "80", "--expose", "53/udp", "labeled:1", "sleep", "300"])).trim();
    expect(await json(id, ".Config.ExposedPorts")).toEqual({ "8080/tcp": {}, "80/tcp": {}, "53/udp": {} });
    const ports = (await t.ok(["port", id])).trim().split("\n").map((l) => l.split(" -> ")[0]).sort();
    expect(ports).toEqual(["53/udp", "80/tcp", "8080/tcp"]);
    await t.ok(["rm", "-f", id]);
    const bad = await t.tsd(["run", "--rm", ...net, "--expose", "http", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, "tsd: invalid range format for --expose: http: use PORT[-PORT][/tcp|udp|sctp]\n"]);
  });

  test("--platform: the image's own is accepted; another is Docker's error; a bad one 125", async () => {
    const arch = (await t.ok(["image", "inspect", "-f", "{{.Architecture}}", "busybox"])).trim();
    expect(await t.ok(["run", "--rm", ...net, "--platform", `linux/${arch}`, "busybox", "echo", "ok"])).toBe("ok\n");
    const other = arch === "arm64" ? "amd64" : "arm64";
    const r = await t.tsd(["run", "--rm", ...net, "--platform", `linux/${other}`, "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`tsd: image with reference busybox was found but does not match the specified platform: wanted linux/${other}, actual: linux/${arch}: pull it for that platform (tsd pull --platform linux/${other}) or drop --platform\n`);
    const bad = await t.tsd(["create", ...net, "--platform", "bogus", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, `tsd: error parsing specified platform: "bogus": unknown operating system or architecture: use OS/ARCH such as linux/amd64\n`]);
  });

  test("--log-driver none: no log file, logs refuses as Docker; local keeps a readable log", async () => {
    await t.ok(["run", "--name", "nolog", ...net, "--log-driver", "none", "busybox", "echo", "hi"]);
    const id = await inspect("nolog", "{{.Id}}");
    expect(readdirSync(join(t.dir, "containers", id)).filter((f) => f.includes("json.log"))).toEqual([]);
    const logs = await t.tsd(["logs", "nolog"]);
    expect([logs.code, logs.stdout, logs.stderr]).toEqual([1, "", "tsd: configured logging driver does not support reading: the container runs with --log-driver none\n"]);
    expect(await json("nolog", ".HostConfig.LogConfig")).toEqual({ Type: "none", Config: {} });
    await t.ok(["run", "--name", "local", ...net, "--log-driver", "local", "busybox", "echo", "kept"]);
    expect(await t.ok(["logs", "local"])).toBe("kept\n");
    expect((await json("local", ".HostConfig.LogConfig")).Type).toBe("local");
    await t.ok(["rm", "nolog", "local"]);
    const bad = await t.tsd(["run", "--rm", ...net, "--log-driver", "syslog", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, 'tsd: error looking up logging plugin syslog: plugin "syslog" not found: use json-file, local or none\n']);
  });
});

describe("attaching", () => {
  test("-a chooses the streams a foreground run relays (the log keeps both)", async () => {
    const cmd = ["busybox", "sh", "-c", "echo out; echo err >&2"];
    const out = await t.tsd(["run", "--name", "aout", ...net, "-a", "stdout", ...cmd]);
    expect([out.code, out.stdout, out.stderr]).toEqual([0, "out\n", ""]);
    const err = await t.tsd(["run", "--rm", ...net, "-a", "STDERR", ...cmd]);
    expect([err.code, err.stdout, err.stderr]).toEqual([0, "", "err\n"]);
    expect((await t.ok(["logs", "aout"])).length + (await t.tsd(["logs", "aout"])).stderr.length).toBe(8);
    expect(await inspect("aout", "{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}")).toBe("false true false");
    await t.ok(["rm", "aout"]);
    const conflict = await t.tsd(["run", "-d", ...net, "-a", "stdout", "busybox", "true"]);
    expect([conflict.code, conflict.stderr]).toEqual([125, "tsd: conflicting options: -a and -d: attach to streams or run detached, not both\n"]);
    const bad = await t.tsd(["run", "--rm", ...net, "-a", "stdio", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, 'tsd: invalid argument "stdio" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR\n']);
  });

  test("--sig-proxy=false: a signal ends the CLI, not the container; by default it is forwarded", async () => {
    const script = "trap 'echo got-term; exit 5' TERM; echo ready; while true; do sleep 0.1; done";
    for (const proxy of [false, true]) {
      const name = `sp-${proxy}`;
      const cli = Bun.spawn([TSD, "--root", t.dir, "run", "--name", name, ...net, `--sig-proxy=${proxy}`, "busybox", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
      const reader = cli.stdout.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("ready\n");
      cli.kill("SIGTERM");
      const code = await cli.exited;
      if (proxy) {
        expect(code).toBe(5);
        expect(await t.ok(["logs", name])).toBe("ready\ngot-term\n");
      } else {
        expect(cli.signalCode).toBe("SIGTERM");
        await Bun.sleep(300);
        expect(await inspect(name, "{{.State.Status}}")).toBe("running");
        expect(await t.ok(["logs", name])).toBe("ready\n");
      }
      await t.ok(["rm", "-f", name]);
    }
  });

  test("--detach-keys is checked as Docker's", async () => {
    const bad = await t.tsd(["run", "--rm", ...net, "--detach-keys", "ctrl-pp", "busybox", "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, 'tsd: invalid detach keys "ctrl-pp": use a comma-separated list like ctrl-p,ctrl-q\n']);
    expect(await t.ok(["run", "--rm", ...net, "--detach-keys", "ctrl-x,x", "busybox", "echo", "ok"])).toBe("ok\n");
  });
});

describe("exit statuses and streams (Docker 20.10)", () => {
  test("engine errors outside run exit 1, one line each", async () => {
    for (const args of [["rm", "nosuch"], ["stop", "nosuch"], ["kill", "nosuch"], ["start", "nosuch"], ["logs", "nosuch"], ["port", "nosuch"], ["top", "nosuch"], ["rename", "nosuch", "x"], ["exec", "nosuch", "true"], ["rmi", "nosuch"], ["tag", "nosuch", "x"], ["history", "nosuch"], ["network", "inspect", "nosuch"]]) {
      const r = await t.tsd(args);
      expect([args.join(" "), r.code, r.stderr.split("\n").length]).toEqual([args.join(" "), 1, 2]);
    }
    const i = await t.tsd(["inspect", "nosuch"]);
    expect([i.code, i.stdout, i.stderr]).toEqual([1, "[]\n", "tsd: no such object: nosuch\n"]);
    // Flag errors stay 125, as docker's.
    expect((await t.tsd(["stop", "--bogus", "x"])).code).toBe(125);
  });

  test("run of a missing command: 127, the container stays created with its status (-d prints the id)", async () => {
    const d = await t.tsd(["run", "-d", "--name", "nocmd-d", ...net, "busybox", "nosuchcmd"]);
    expect(d.code).toBe(127);
    expect(d.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(d.stderr).toBe('tsd: cannot exec "nosuchcmd": executable file not found in $PATH\n');
    expect(await inspect("nocmd-d", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}")).toBe('created 127 cannot exec "nosuchcmd": executable file not found in $PATH');
    expect(await t.ok(["ps", "-a", "--filter", "name=nocmd-d", "--format", "{{.Status}}"])).toBe("Created\n");
    const fg = await t.tsd(["run", "--name", "nocmd-fg", ...net, "busybox", "nosuchcmd"]);
    expect([fg.code, fg.stdout]).toEqual([127, ""]);
    expect(await inspect("nocmd-fg", "{{.State.Status}} {{.State.ExitCode}}")).toBe("created 127");
    // start fails again, as docker's: status 1.
    const again = await t.tsd(["start", "nocmd-d"]);
    expect([again.code, again.stderr]).toEqual([1, 'tsd: cannot exec "nosuchcmd": executable file not found in $PATH\n']);
    await t.ok(["rm", "nocmd-d", "nocmd-fg"]);
    // --rm removes it all the same.
    const before = t.containerDirs().length;
    const rm = await t.tsd(["run", "--rm", ...net, "busybox", "nosuchcmd"]);
    expect(rm.code).toBe(127);
    expect(t.containerDirs().length).toBe(before);
  });

  test("an image without a command: run 125, create 1 (as docker's CLI)", async () => {
    const run = await t.tsd(["run", "--rm", ...net, "flat:1"]);
    expect([run.code, run.stderr]).toEqual([125, "tsd: no command specified: the image has no Entrypoint or Cmd; give one after the image name\n"]);
    const create = await t.tsd(["create", ...net, "flat:1"]);
    expect(create.code).toBe(1);
    expect(await t.ok(["ps", "-aq"])).toBe("");
  });

  test("rmi -f of an image a running container uses untags it; the container runs on", async () => {
    await t.ok(["tag", "busybox", "inuse:1"]);
    const id = (await t.ok(["run", "-d", ...net, "inuse:1", "sleep", "300"])).trim();
    // Another tag of the same image: only that tag goes, -f or not.
    expect(await t.ok(["rmi", "-f", "inuse:1"])).toBe("Untagged: inuse:1\n");
    expect(await inspect(id, "{{.State.Status}}")).toBe("running");
    await t.ok(["rm", "-f", id]);
    const only = (await t.ok(["run", "-d", ...net, "flat:1", "sleep", "300"])).trim();
    const imageId = await inspect(only, "{{.Image}}");
    const plain = await t.tsd(["rmi", "flat:1"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^tsd: conflict: unable to remove image flat:1 .* is running it: stop it first\n$/);
    expect(await t.ok(["rmi", "-f", "flat:1"])).toBe("Untagged: flat:1\n");
    expect(await inspect(only, "{{.State.Status}}")).toBe("running");
    expect(await t.ok(["image", "inspect", "-f", "{{.Id}}", imageId])).toBe(`${imageId}\n`);
    await t.ok(["rm", "-f", only]);
    await t.ok(["tag", imageId, "flat:1"]);
  });
});
