// run/create's metadata and CLI flags (issue 14 item 4), parsed as Docker 20.10 does, and the
// CLI's exit statuses: pure functions, no root.
import { describe, expect, test } from "bun:test";
import { parseFlags } from "../../src/cli/flags";
import { runFlags } from "../../src/cli/run";
import { commandPath, engineErrorStatus } from "../../src/cli/exit-status";
import { runOptionsFromFlags } from "../../src/container/options";
import { csvFields, parseMountFlag, mountToRun } from "../../src/container/mount-flag";
import { attachedStreams, checkPlatform, checkSignal, parseAttach, parseExpose, parseLabels, parseLogDriver } from "../../src/container/meta-options";
import { checkImagePlatform, mergeVolumesFrom } from "../../src/container/meta-create";
import { isBind, metaConfig, metaHostConfig } from "../../src/container/meta-inspect";
import { UsageError } from "../../src/errors";

const opts = (argv: string[], files: Record<string, string> = {}, env: Record<string, string> = {}) => {
  const { flags, positionals } = parseFlags("run", runFlags, argv, false);
  return runOptionsFromFlags(flags, positionals, env, (p) => {
    if (!(p in files)) throw Object.assign(new Error("nope"), { code: "ENOENT" });
    return files[p]!;
  });
};

describe("--mount", () => {
  test("Go's CSV: commas split, double quotes group", () => {
    expect(csvFields('type=bind,"src=/a,b",dst=/c')).toEqual(["type=bind", "src=/a,b", "dst=/c"]);
    expect(csvFields('a="x""y"')).toEqual(['a="x""y"']);
    expect(() => csvFields('"open')).toThrow(/quoted-field/);
  });
  test("every key Docker has, with its aliases", () => {
    expect(parseMountFlag("type=bind,source=/h,destination=/c,readonly,bind-propagation=rslave")).toEqual({
      Type: "bind", Source: "/h", Target: "/c", ReadOnly: true, BindOptions: { Propagation: "rslave" },
    });
    expect(parseMountFlag("src=vol,dst=/v,volume-nocopy,ro=false")).toEqual({ Type: "volume", Source: "vol", Target: "/v", ReadOnly: false, VolumeOptions: { NoCopy: true } });
    expect(parseMountFlag("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770")).toEqual({ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } });
  });
  test("bad values: one line naming the field", () => {
    const bad: [string, RegExp][] = [
      ["type=bind,src=/a", /target is required/],
      ["type=nfs,dst=/a", /invalid mount type "nfs"/],
      ["type=bind,src=/a,dst=/b,color=red", /unexpected key 'color' in 'color=red'/],
      ["type=bind,src,dst=/b", /invalid field 'src' must be a key=value pair/],
      ["type=tmpfs,dst=/t,volume-nocopy", /cannot mix 'volume-\*' options with mount type 'tmpfs'/],
      ["type=volume,dst=/t,bind-propagation=rshared", /cannot mix 'bind-\*'/],
      ["type=bind,src=/a,dst=/b,bind-propagation=sideways", /invalid bind-propagation "sideways"/],
      ["type=tmpfs,dst=/t,tmpfs-mode=999", /invalid value for tmpfs-mode: 999/],
      ["type=bind,src=/a,dst=/b,readonly=maybe", /invalid value for readonly: maybe/],
      ["type=bind,src=/a,dst=/b,idmap=uids=0-1000-10", /idmap takes no mapping in tsd/],
      ["type=volume,dst=/v,idmap", /cannot mix 'bind-\*' options with mount type 'volume'/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseMountFlag(text)).toThrow(UsageError);
      expect(() => parseMountFlag(text)).toThrow(why);
      expect(() => parseMountFlag(text)).toThrow(`invalid argument "${text}" for "--mount" flag: `);
    }
  });
  test("the daemon's checks, and the mounts -v and --tmpfs would give", () => {
    expect(() => mountToRun(parseMountFlag("type=bind,dst=/b"))).toThrow('invalid mount config for type "bind": field Source must not be empty');
    expect(() => mountToRun(parseMountFlag("type=bind,src=rel,dst=/b"))).toThrow("mount path must be absolute");
    expect(() => mountToRun(parseMountFlag("type=bind,src=/a,dst=b"))).toThrow("'b' mount path must be absolute");
    expect(() => mountToRun(parseMountFlag("type=tmpfs,src=x,dst=/t"))).toThrow("field Source must not be specified");
    expect(mountToRun(parseMountFlag("type=bind,src=/a,dst=/b,ro,bind-propagation=rshared")).bind).toEqual({ source: "/a", destination: "/b", readonly: true, mustExist: true, propagation: "rshared" });
    expect(mountToRun(parseMountFlag("type=bind,src=/a,dst=/b,idmap")).bind).toEqual({ source: "/a", destination: "/b", readonly: false, mustExist: true, idmap: true });
    expect(mountToRun(parseMountFlag("dst=/anon")).bind).toEqual({ source: "", destination: "/anon", readonly: false, anonymous: true, volume: "" });
    expect(mountToRun(parseMountFlag("type=tmpfs,dst=/t,tmpfs-size=64k,tmpfs-mode=700,ro")).tmpfs).toEqual({ destination: "/t", options: ["nosuid", "nodev", "noexec", "size=65536", "mode=700", "ro"] });
  });
  test("joins -v and --tmpfs in the run options; two mounts at one path are refused", () => {
    const o = opts(["--mount", "type=bind,src=/h,dst=/b", "-v", "/x:/x", "--mount", "type=tmpfs,dst=/t", "busybox"]);
    expect(o.volumes.map((v) => v.destination)).toEqual(["/x", "/b"]);
    expect(o.tmpfs.map((t) => t.destination)).toEqual(["/t"]);
    expect(o.mounts?.length).toBe(2);
    expect(() => opts(["-v", "/x:/b", "--mount", "type=bind,src=/h,dst=/b/", "busybox"])).toThrow("duplicate mount point: /b");
  });
});

describe("labels, signals, ports, platform, log driver, attach", () => {
  test("--label-file lines first, then -l; bare keys as Docker", () => {
    const files = { "/l": "a=1\n# comment\n\n  b=2\nc\nHOMEY\n" };
    expect(parseLabels(["/l"], ["b=3", "d", "e="], { HOMEY: "h" }, (p) => files[p as "/l"])).toEqual({ a: "1", b: "3", HOMEY: "h", d: "", e: "" });
    expect(() => parseLabels([], ["=v"], {}, () => "")).toThrow('invalid label "=v"');
    expect(() => opts(["--label-file", "/none", "busybox"])).toThrow('cannot read label file "/none": ENOENT');
  });
  test("--stop-signal and --stop-timeout", () => {
    expect(checkSignal("SIGUSR1")).toBe("SIGUSR1");
    expect(checkSignal("hup")).toBe("hup");
    expect(checkSignal("9")).toBe("9");
    expect(() => checkSignal("SIGNOPE")).toThrow("invalid signal: SIGNOPE");
    expect(() => checkSignal("99")).toThrow(UsageError);
    expect(opts(["--stop-signal", "USR1", "--stop-timeout", "3", "busybox"])).toMatchObject({ stopSignal: "USR1", stopTimeout: 3 });
    expect(() => opts(["--stop-timeout", "soon", "busybox"])).toThrow('invalid argument "soon" for "--stop-timeout" flag');
  });
  test("--expose: ports, protocols, ranges", () => {
    expect(parseExpose("80")).toEqual(["80/tcp"]);
    expect(parseExpose("53/UDP")).toEqual(["53/udp"]);
    expect(parseExpose("7000-7002/tcp")).toEqual(["7000/tcp", "7001/tcp", "7002/tcp"]);
    for (const bad of ["0", "70000", "9-8", "80/icmp", "http"]) expect(() => parseExpose(bad)).toThrow("invalid range format for --expose");
  });
  test("--platform: containerd's syntax, then the image must match", () => {
    expect(checkPlatform("linux/amd64")).toBe("linux/amd64");
    expect(checkPlatform("linux/x86_64")).toBe("linux/amd64");
    expect(checkPlatform("linux/arm64/v8")).toBe("linux/arm64/v8");
    expect(() => checkPlatform("bogus")).toThrow('error parsing specified platform: "bogus": unknown operating system or architecture');
    expect(() => checkPlatform("linux/a/b/c")).toThrow(UsageError);
    const image = { config: { os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } } };
    expect(() => checkImagePlatform("busybox", image, "linux/amd64")).not.toThrow();
    expect(() => checkImagePlatform("busybox", image, "linux/arm64")).toThrow(
      "image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64",
    );
  });
  test("--log-driver: json-file, local, none", () => {
    expect(parseLogDriver(undefined, [])).toBeUndefined();
    expect(parseLogDriver("local", ["max-size=1m"])).toBe("local");
    expect(() => parseLogDriver("syslog", [])).toThrow('error looking up logging plugin syslog: plugin "syslog" not found');
    expect(() => parseLogDriver("none", ["max-size=1m"])).toThrow("--log-opt is not allowed with --log-driver none");
    expect(metaHostConfig(opts(["--log-driver", "none", "busybox"]))).toMatchObject({ LogConfig: { Type: "none", Config: {} } });
  });
  test("-a/--attach, -i, -d", () => {
    expect(parseAttach(["STDOUT", "stderr"], false)).toEqual({ stdin: false, stdout: true, stderr: true });
    expect(() => parseAttach(["stdout"], true)).toThrow("conflicting options: -a and -d");
    expect(() => parseAttach(["stdio"], false)).toThrow('invalid argument "stdio" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
    expect(attachedStreams({})).toEqual({ stdin: false, stdout: true, stderr: true });
    expect(attachedStreams({ interactive: true, attach: { stdin: false, stdout: false, stderr: true } })).toEqual({ stdin: true, stdout: false, stderr: true });
    expect(attachedStreams({ detach: true, interactive: true })).toEqual({ stdin: false, stdout: false, stderr: false });
  });
  test("--sig-proxy=false, --detach-keys, --cidfile, --volumes-from are kept", () => {
    const o = opts(["--sig-proxy=false", "--detach-keys", "ctrl-x,x", "--cidfile", "/tmp/c", "--volumes-from", "a:ro", "--volumes-from", "b", "busybox"]);
    expect(o).toMatchObject({ sigProxy: false, detachKeys: "ctrl-x,x", cidfile: "/tmp/c", volumesFrom: ["a:ro", "b"] });
    expect(opts(["busybox"]).sigProxy).toBeUndefined();
    expect(() => opts(["--detach-keys", "ctrl-pp", "busybox"])).toThrow("invalid detach keys");
    expect(() => opts(["--volumes-from", "a:rx", "busybox"])).toThrow('invalid mode for --volumes-from "a:rx"');
  });
});

describe("create and inspect", () => {
  test("--volumes-from: the container's own mounts win", () => {
    const own = { volumes: [{ source: "/h", destination: "/data", readonly: false }], tmpfs: [{ destination: "/t", options: [] }] };
    const from = [
      { source: "/x", destination: "/data/", readonly: true, inherited: true },
      { source: "/y", destination: "/t", readonly: true, inherited: true },
      { source: "/z", destination: "/z", readonly: true, inherited: true },
    ];
    expect(mergeVolumesFrom(own, from).map((v) => v.source)).toEqual(["/h", "/z"]);
  });
  test("Config: labels, stop signal (the image's by default), exposed ports, attached streams", () => {
    const image = { rootfs: { type: "layers", diff_ids: [] }, config: { StopSignal: "SIGQUIT", ExposedPorts: { "8080/tcp": {} } } };
    const o = opts(["-l", "a=b", "--expose", "53/udp", "-p", "9000:90", "-a", "stderr", "busybox"]);
    expect(metaConfig({ ...o, labels: { a: "b" } }, image)).toEqual({
      AttachStdin: false, AttachStdout: false, AttachStderr: true,
      ExposedPorts: { "8080/tcp": {}, "53/udp": {}, "90/tcp": {} },
      StdinOnce: false, Labels: { a: "b" }, StopSignal: "SIGQUIT",
    });
    expect(metaConfig(opts(["--stop-signal", "9", "--stop-timeout", "0", "busybox"]), image)).toMatchObject({ StopSignal: "9", StopTimeout: 0 });
    expect(metaConfig(opts(["busybox"]), undefined)).not.toHaveProperty("StopSignal");
  });
  test("Binds lists -v mounts only", () => {
    const o = opts(["-v", "/a:/a", "--mount", "type=bind,src=/b,dst=/b", "busybox"]);
    expect(o.volumes.map((v) => isBind(v, o))).toEqual([true, false]);
    expect(isBind({ source: "/c", destination: "/c", readonly: false, inherited: true }, o)).toBe(false);
  });
});

describe("exit statuses (Docker's CLI)", () => {
  test("engine errors: 125 for run only; 1 elsewhere, create included; exec keeps 126/127", () => {
    expect(engineErrorStatus(commandPath(["run", "busybox"]), 125)).toBe(125);
    expect(engineErrorStatus(commandPath(["container", "run", "busybox"]), 127)).toBe(127);
    expect(engineErrorStatus(commandPath(["create", "busybox"]), 125)).toBe(1);
    for (const c of ["rm", "stop", "inspect", "logs", "start", "rmi", "pull"]) expect(engineErrorStatus(commandPath([c, "x"]), 125)).toBe(1);
    expect(engineErrorStatus(commandPath(["start", "x"]), 127)).toBe(1);
    expect(engineErrorStatus(commandPath(["exec", "c", "nope"]), 127)).toBe(127);
    expect(engineErrorStatus(commandPath(["exec", "c", "true"]), 125)).toBe(1);
    expect(engineErrorStatus(commandPath(["save", "x"]), 141)).toBe(141);
  });
});
