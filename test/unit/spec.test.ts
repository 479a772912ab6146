import { describe, expect, test } from "bun:test";
import { runOptionsFromFlags, parseEnvFile, parseVolume, withImageVolumes, type RunFlags } from "../../src/container/options";
import { buildSpec, processArgs, processEnv, overlayData, MASKED_PATHS, type SpecContext } from "../../src/container/spec";
import { effectiveCaps, DEFAULT_CAPS } from "../../src/container/caps";
import { resolveUser } from "../../src/container/user";
import type { ImageConfig } from "../../src/image/store";
import { UsageError } from "../../src/cli/globals";

const noFlags: RunFlags = {
  rm: false, interactive: false, tty: false, env: [], "env-file": [], volume: [], tmpfs: [],
  "read-only": false, privileged: false, "cap-add": [], "cap-drop": [],
};
const opts = (f: Partial<RunFlags>, pos: string[] = ["busybox"]) => runOptionsFromFlags({ ...noFlags, ...f }, pos, { HOME: "/root", FROMHOST: "h" }, () => "");
const image: ImageConfig = { rootfs: { type: "layers", diff_ids: [] }, config: { Cmd: ["sh"], Env: ["PATH=/bin", "FOO=img"], WorkingDir: "/w" } };
const ctx: SpecContext = {
  id: "a".repeat(64), root: "/var/lib/tsd", bundle: `/var/lib/tsd/containers/${"a".repeat(64)}`, lowerLinks: ["L2", "L1"],
  hostname: "box", user: { uid: 0, gid: 0, additionalGids: [], home: "/root" }, etcFiles: { hostname: "/b/hostname", hosts: "/b/hosts" },
};

describe("entrypoint and command", () => {
  test("image Cmd when none given", () => expect(processArgs({ command: [] }, image.config)).toEqual(["sh"]));
  test("command replaces Cmd, keeps Entrypoint", () =>
    expect(processArgs({ command: ["x"] }, { Entrypoint: ["/e"], Cmd: ["c"] })).toEqual(["/e", "x"]));
  test("--entrypoint discards the image Cmd", () =>
    expect(processArgs({ entrypoint: ["/bin/echo"], command: [] }, { Entrypoint: ["/e"], Cmd: ["c"] })).toEqual(["/bin/echo"]));
  test("--entrypoint '' clears it", () => expect(processArgs({ entrypoint: [], command: ["ls"] }, { Entrypoint: ["/e"] })).toEqual(["ls"]));
  test("nothing to run is an engine error (125 for run, as Docker's)", () => expect(() => processArgs({ command: [] }, {})).toThrow(/no command specified/));
});

describe("environment", () => {
  test("image env, then flags; PATH, HOSTNAME, HOME defaults; TERM with -t", () => {
    expect(processEnv(["PATH=/bin", "FOO=img"], ["FOO=cli", "X=1"], "box", "/root", true)).toEqual([
      "PATH=/bin", "HOSTNAME=box", "FOO=cli", "TERM=xterm", "X=1", "HOME=/root",
    ]);
  });
  test("-e KEY takes the caller's value or drops it", () => {
    expect(opts({ env: ["FROMHOST", "MISSING", "A=1"] }).env).toEqual(["FROMHOST=h", "A=1"]);
  });
  test("env files: comments, blanks, bad keys", () => {
    expect(parseEnvFile("f", "# c\n\nA=1\n  B=two words\nFROMHOST\n", { FROMHOST: "v" })).toEqual(["A=1", "B=two words", "FROMHOST=v"]);
    expect(() => parseEnvFile("f", "BAD KEY=1", {})).toThrow(/line 1/);
  });
});

describe("validation", () => {
  test("volumes", () => {
    expect(parseVolume("/srv/data:/data:ro")).toEqual({ source: "/srv/data", destination: "/data", readonly: true });
    expect(parseVolume("data:/x")).toEqual({ source: "", destination: "/x", readonly: false, volume: "data" });
    expect(() => parseVolume("da ta:/x")).toThrow(/volume name/);
    expect(() => parseVolume("/a:/b:xx")).toThrow(/unknown mode/);
    expect(parseVolume("/a")).toMatchObject({ destination: "/a", anonymous: true });
    expect(() => parseVolume("a")).toThrow(UsageError);
  });
  test("names, hostnames, workdir, image", () => {
    expect(() => opts({ name: "-bad" })).toThrow(/invalid container name/);
    expect(() => opts({ hostname: "a_b" })).toThrow(/invalid hostname/);
    expect(() => opts({ workdir: "rel" })).toThrow(/absolute path/);
    expect(() => opts({}, [])).toThrow(/requires at least 1 argument/);
  });
});

describe("capabilities", () => {
  test("Docker's default set", () => expect(effectiveCaps([], [], false)).toEqual(DEFAULT_CAPS));
  test("add and drop", () => {
    const caps = effectiveCaps(["CAP_SYS_ADMIN"], ["CAP_NET_RAW"], false);
    expect(caps).toContain("CAP_SYS_ADMIN");
    expect(caps).not.toContain("CAP_NET_RAW");
    expect(effectiveCaps(["CAP_KILL"], ["ALL"], false)).toEqual(["CAP_KILL"]);
  });
  test("unknown capability", () => expect(() => effectiveCaps(["CAP_NOPE"], [], false)).toThrow(/unknown capability/));
  test("--cap-add names are normalised", () => expect(opts({ "cap-add": ["sys_admin"] }).capAdd).toEqual(["CAP_SYS_ADMIN"]));
});

describe("users", () => {
  const passwd = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n";
  const group = "root:x:0:\nwheel:x:10:user\nuser:x:1000:\n";
  // Docker's groups: the primary gid first, the user's /etc/group memberships, --group-add.
  test("default root", () => expect(resolveUser(undefined, passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: "/root" }));
  test("by name, with supplementary groups", () => expect(resolveUser("user", passwd, group)).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10], home: "/home/user" }));
  test("a uid with an entry gets its groups too", () => expect(resolveUser("1000", passwd, group).additionalGids).toEqual([1000, 10]));
  test("numeric ids need no entry", () => expect(resolveUser("1234:5678", passwd, group)).toEqual({ uid: 1234, gid: 5678, additionalGids: [5678], home: "/" }));
  test("a group named with -u drops the memberships", () => expect(resolveUser("user:wheel", passwd, group).additionalGids).toEqual([10]));
  test("--group-add: names of the image, numbers, no duplicates", () => {
    expect(resolveUser("user", passwd, group, ["root", "4242", "wheel"]).additionalGids).toEqual([1000, 10, 0, 4242]);
    expect(() => resolveUser("user", passwd, group, ["staff"])).toThrow(/unable to find group staff/);
  });
  test("Debian's nobody", () => {
    const r = resolveUser("nobody", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", "nogroup:x:65534:\n");
    expect(r).toEqual({ uid: 65534, gid: 65534, additionalGids: [65534], home: "/nonexistent" });
  });
  test("unknown names fail", () => {
    expect(() => resolveUser("nobody", passwd, group)).toThrow(/unable to find user nobody/);
    expect(() => resolveUser("user:staff", passwd, group)).toThrow(/unable to find group staff/);
  });
});

describe("buildSpec", () => {
  test("a Docker-like default spec", () => {
    const s = buildSpec(opts({}), image, ctx);
    expect(s.process.args).toEqual(["sh"]);
    expect(s.process.cwd).toBe("/w");
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.process.capabilities.bounding).toEqual(DEFAULT_CAPS);
    expect(s.linux.maskedPaths).toEqual(MASKED_PATHS);
    expect(s.linux.namespaces.map((n) => n.type).sort()).toEqual(["cgroup", "ipc", "mount", "network", "pid", "uts"]);
    expect(s.mounts.find((m) => m.destination === "/sys")!.options).toContain("ro");
    expect(s.root).toEqual({ path: `${ctx.bundle}/merged`, readonly: false });
    expect(s.annotations["io.tsd.rootfs.overlay"]).toBe(`lowerdir=layers/l/L2:layers/l/L1,upperdir=containers/${ctx.id}/upper,workdir=containers/${ctx.id}/work`);
  });
  test("privileged: all caps, no masks, rw /sys, new privileges allowed", () => {
    const s = buildSpec(opts({ privileged: true }), image, ctx);
    expect(s.process.capabilities.bounding.length).toBeGreaterThan(38);
    expect(s.linux.maskedPaths).toEqual([]);
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.mounts.find((m) => m.destination === "/sys")!.options).toContain("rw");
  });
  test("non-root users get no effective capabilities", () => {
    const s = buildSpec(opts({}), image, { ...ctx, user: { uid: 1000, gid: 1000, additionalGids: [], home: "/" } });
    expect(s.process.capabilities.effective).toEqual([]);
    expect(s.process.capabilities.bounding).toEqual(DEFAULT_CAPS);
  });
  test("volumes, tmpfs and read-only root", () => {
    const s = buildSpec(opts({ volume: ["/srv:/data:ro"], tmpfs: ["/run:size=1m"], "read-only": true }), image, ctx);
    expect(s.mounts.at(-1)).toEqual({ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "rprivate", "ro"] });
    expect(s.mounts.find((m) => m.destination === "/run")!.options).toEqual(["nosuid", "nodev", "noexec", "size=1m"]);
    expect(s.root.readonly).toBe(true);
  });
  test("overlay data must stay under a page", () => {
    expect(() => overlayData({ ...ctx, lowerLinks: Array(200).fill("X".repeat(26)) })).toThrow(/too many layers/);
  });
});

describe("the image's VOLUMEs", () => {
  test("anonymous volumes where no -v or --tmpfs mounts, paths cleaned, / and relative ones skipped", () => {
    const v = withImageVolumes([parseVolume("named:/data/")], [{ destination: "/tmp", options: [] }], { "/data": {}, "/tmp/": {}, "/var//lib/": {}, "/": {}, "rel": {}, "/var/lib": {} });
    expect(v).toEqual([
      { source: "", destination: "/data/", readonly: false, volume: "named" },
      { source: "", destination: "/var/lib", readonly: false, anonymous: true, volume: "" },
    ]);
    expect(withImageVolumes([], [], null)).toEqual([]);
  });
});

describe("the stored options record", () => {
  test("round trip; a row from before later fields gets their defaults; newer or damaged ones are refused", async () => {
    const { encodeOptions, decodeOptions, OPTIONS_VERSION } = await import("../../src/container/options");
    const o = opts({ env: ["A=1"], volume: ["/a:/b"] });
    expect(decodeOptions(encodeOptions(o))).toEqual(o);
    expect(JSON.parse(encodeOptions(o)).optionsVersion).toBe(OPTIONS_VERSION);
    const old = decodeOptions(JSON.stringify({ image: "busybox", command: ["sh"], rm: true }));
    expect(old).toMatchObject({ image: "busybox", command: ["sh"], rm: true, env: [], volumes: [], tmpfs: [], capAdd: [], capDrop: [], privileged: false });
    expect(() => decodeOptions(JSON.stringify({ image: "x", command: [], optionsVersion: OPTIONS_VERSION + 1 }))).toThrow(/newer than this tsd reads/);
    expect(() => decodeOptions("{")).toThrow(/damaged/);
    expect(() => decodeOptions(JSON.stringify({ command: [] }))).toThrow(/damaged/);
  });
});
