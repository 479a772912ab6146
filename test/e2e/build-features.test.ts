// tsd build beyond the first increment: COPY --from with globs, RUN --mount (bind of the
// context or of a stage, cache kept across builds, tmpfs; secret refused), FROM --platform and
// --platform against a manifest list in a local registry (a foreign RUN refused without
// binfmt_misc), several URLs and several archives in one ADD, independent stages in parallel, and image prune
// keeping what a tagged image's later builds take from the cache.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { buildFixture } from "../lib/build-fixture";
import { testImages } from "../lib/fixtures";
import { push, sh, startRegistry, type Registry } from "../lib/registry";

setDefaultTimeout(90000);
let t: TestRoot;
let work: string;
const { context } = buildFixture("buildf", (root, dir) => {
  t = root;
  work = dir;
});

const run = (image: string, script: string) => t.ok(["run", "--rm", "--network", "none", image, "sh", "-c", script]);

describe("COPY --from with globs", () => {
  test("copies the matches of a stage's path pattern; no match is an error", async () => {
    const df = `FROM busybox AS s\nRUN mkdir -p /out/sub && echo a > /out/a.txt && echo b > /out/b.txt && echo c > /out/c.log && echo d > /out/sub/d.txt\nFROM busybox\nCOPY --from=s /out/*.txt /dst/\nCOPY --from=s /out/su?/*.txt /dst2/\n`;
    const ctx = context("fromglob", { Dockerfile: df });
    await t.ok(["build", "--network", "none", "-t", "fromglob", ctx]);
    expect(await run("fromglob", "ls /dst /dst2; cat /dst/a.txt")).toBe("/dst:\na.txt\nb.txt\n\n/dst2:\nd.txt\na\n");
    // The same build: every step from the cache, nothing copied out of the stage again.
    const again = await t.ok(["build", "--network", "none", ctx]);
    expect(again.split("\n").filter((l) => l === " ---> Using cache").length).toBe(3);
    const none = await t.tsd(["build", "--network", "none", context("fromglob0", { Dockerfile: "FROM busybox AS s\nFROM busybox\nCOPY --from=s /etc/*.nothing /x/\n" })]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no source files were specified");
  });
});

describe("COPY --from's cache", () => {
  test("a build arg in --chown is part of the step's key", async () => {
    const ctx = context("fromchown", { Dockerfile: "FROM busybox AS s\nRUN echo s > /s\nFROM busybox\nARG U=1\nCOPY --from=s --chown=$U /s /s\n" });
    await t.ok(["build", "--network", "none", "-t", "fromchown", ctx]);
    expect(await run("fromchown", "stat -c %u /s")).toBe("1\n");
    await t.ok(["build", "--network", "none", "--build-arg", "U=7", "-t", "fromchown", ctx]);
    expect(await run("fromchown", "stat -c %u /s")).toBe("7\n");
  });
});

describe("RUN --mount", () => {
  test("bind: the context's path read-only (ignored files left out), a stage's path; no mount point stays in the layer (BuildKit's)", async () => {
    const df = [
      "FROM busybox AS s",
      "RUN mkdir /gen && echo generated > /gen/g.txt",
      "FROM busybox",
      "RUN --mount=type=bind,source=data,target=/mnt cat /mnt/f.txt > /from-ctx && ls -a /mnt > /listing && (touch /mnt/x 2>/dev/null && echo writable || echo read-only) > /ro",
      "RUN --mount=type=bind,from=s,source=/gen,target=/g cat /g/g.txt > /from-stage",
      "RUN --mount=target=/rw,rw touch /rw/new && ls /rw > /rw-listing",
    ].join("\n");
    const ctx = context("mountbind", { Dockerfile: df, "data/f.txt": "ctx file\n", "data/secret.tmp": "no\n", ".dockerignore": "**/*.tmp\n" });
    await t.ok(["build", "--network", "none", "-t", "mbind", ctx]);
    expect(await run("mbind", "cat /from-ctx /listing /ro /from-stage; ls -d /mnt /g /rw 2>&1 | grep -c 'No such file'; grep -c new /rw-listing")).toBe("ctx file\n.\n..\nf.txt\nread-only\ngenerated\n3\n1\n");
    // Writes to an rw bind went to a private copy, not into the context.
    expect(existsSync(join(ctx, "new"))).toBe(false);
    // A change under the bound path invalidates the RUN that binds it.
    writeFileSync(join(ctx, "data/f.txt"), "changed\n");
    const out = await t.ok(["build", "--network", "none", "-t", "mbind", ctx]);
    const step = (n: number) => out.slice(out.indexOf(`Step ${n}/`), out.indexOf(`Step ${n + 1}/`));
    expect(step(4)).not.toContain("Using cache");
    expect(await run("mbind", "cat /from-ctx")).toBe("changed\n");
  });

  test("cache: kept across builds (never in the image), emptied by builder prune; tmpfs", async () => {
    const df = "FROM busybox\nRUN --mount=type=cache,target=/cache,id=c1 --mount=type=tmpfs,target=/t echo x >> /cache/log && wc -l < /cache/log > /count && echo hi > /t/f && grep -q ' /t tmpfs ' /proc/mounts && echo tmpfs > /was\n";
    const ctx = context("mountcache", { Dockerfile: df });
    await t.ok(["build", "--network", "none", "-t", "mcache", ctx]);
    await t.ok(["build", "--no-cache", "--network", "none", "-t", "mcache", ctx]);
    expect(await run("mcache", "cat /count /was; ls -d /cache /t 2>&1 | grep -c 'No such file'")).toBe("2\ntmpfs\n2\n");
    await t.ok(["builder", "prune", "-f"]);
    await t.ok(["build", "--no-cache", "--network", "none", "-t", "mcache", ctx]);
    expect(await run("mcache", "cat /count")).toBe("1\n");
  });

  test("secret and ssh mounts, unknown keys: one line naming the Dockerfile line", async () => {
    for (const [flag, want] of [
      ["--mount=type=secret,id=x", "line 2: RUN --mount=type=secret is not supported"],
      ["--mount=type=cache,target=/c,bogus=1", 'line 2: RUN --mount=type=cache: unknown key "bogus"'],
      ["--mount=type=tmpfs", "line 2: RUN --mount=type=tmpfs: a target is required"],
    ] as const) {
      const r = await t.tsd(["build", "--network", "none", context(`mountbad${flag.length}`, { Dockerfile: `FROM busybox\nRUN ${flag} true\n` })]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(want);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
  });
});

describe("platforms", () => {
  let reg: Registry;
  const fresh = new TestRoot("buildf-plat");
  beforeAll(async () => {
    const images = await testImages();
    reg = await startRegistry();
    // The busybox layer under an amd64 and an arm64 config, an OCI index over both.
    const layout = join(work, "layout");
    mkdirSync(layout);
    await sh(["tar", "-xf", images.busyboxOci, "-C", layout]);
    await sh(["umoci", "config", "--image", `${layout}:latest`, "--tag", "arm64", "--architecture", "arm64"]);
    await push(`oci:${layout}:latest`, `${reg.host}/plat:amd64`, ["-f", "oci"]);
    await push(`oci:${layout}:arm64`, `${reg.host}/plat:arm64`, ["-f", "oci"]);
    const manifest = async (tag: string) => {
      const r = await fetch(`http://${reg.host}/v2/plat/manifests/${tag}`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
      const bytes = new Uint8Array(await r.arrayBuffer());
      return { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`, size: bytes.length };
    };
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { ...(await manifest("arm64")), platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        { ...(await manifest("amd64")), platform: { os: "linux", architecture: "amd64" } },
      ],
    };
    const put = await fetch(`http://${reg.host}/v2/plat/manifests/latest`, { method: "PUT", headers: { "content-type": index.mediaType }, body: JSON.stringify(index) });
    if (put.status !== 201) throw new Error(`PUT index: ${put.status}`);
  }, 120000);
  afterAll(async () => {
    await reg?.stop().catch(() => {});
    const leaks = fresh.leaks();
    await fresh.destroy();
    expect(leaks).toEqual([]);
  });

  const arch = async (ref: string) => (await fresh.ok(["image", "inspect", "-f", "{{.Architecture}}", ref])).trim();
  // Whether this host could run arm64 binaries through qemu (a RUN for arm64 then runs).
  const binfmt = (() => {
    try {
      return readFileSync("/proc/sys/fs/binfmt_misc/qemu-aarch64", "utf8").startsWith("enabled");
    } catch {
      return false;
    }
  })();

  test("FROM --platform and --platform pick the manifest list's entry; $BUILDPLATFORM is the host's", async () => {
    const ctx = context("plat", { Dockerfile: `FROM --platform=$BUILDPLATFORM ${reg.host}/plat AS host\nRUN echo ran > /ran\nFROM --platform=linux/arm64 ${reg.host}/plat\nCOPY --from=host /ran /ran\nLABEL p=arm\n` });
    const r = await fresh.tsd(["build", "-t", "plat-arm", "--network", "none", ctx], { timeoutMs: 120000 });
    expect(r.stderr).toContain(`Unable to find image '${reg.host}/plat' locally`);
    expect(r.code).toBe(0);
    expect(await arch("plat-arm")).toBe("arm64");
    // --platform for every FROM: the arm64 image again (the local amd64 one is not taken).
    const ctx2 = context("plat2", { Dockerfile: `FROM ${reg.host}/plat\nLABEL x=y\n` });
    await fresh.ok(["build", "--platform", "linux/arm64", "-t", "plat-arm2", "--network", "none", ctx2]);
    expect(await arch("plat-arm2")).toBe("arm64");
    const bad = await fresh.tsd(["build", "--platform", "linux/s390x", "--network", "none", ctx2]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("no matching manifest for linux/s390x");
  });

  test("a RUN for another architecture: refused with one line unless binfmt_misc can run it", async () => {
    const ctx = context("platrun", { Dockerfile: `FROM --platform=linux/arm64 ${reg.host}/plat\nRUN true\n` });
    const r = await fresh.tsd(["build", "--network", "none", ctx], { timeoutMs: 120000 });
    if (binfmt) {
      expect(r.code).toBe(0);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tsd: line 2: RUN cannot run for linux\/arm64: this host runs linux\/amd64 and has no binfmt_misc handler for it/m);
      expect(await fresh.ok(["ps", "-aq"])).toBe("");
    }
  });
});

describe("ADD", () => {
  test("several URLs and a local file in one ADD", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`from ${new URL(req.url).pathname}\n`) });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const ctx = context("addmulti", { Dockerfile: `FROM busybox\nADD ${base}/one.txt ${base}/two.txt local.txt /dl/\n`, "local.txt": "local\n" });
      await t.ok(["build", "--network", "none", "-t", "addmulti", ctx]);
      expect(await run("addmulti", "cd /dl && cat one.txt two.txt local.txt && stat -c '%n %a' *")).toBe("from /one.txt\nfrom /two.txt\nlocal\nlocal.txt 644\none.txt 600\ntwo.txt 600\n");
      const bad = await t.tsd(["build", "--network", "none", context("addmulti2", { Dockerfile: `FROM busybox\nADD ${base}/one.txt ${base}/two.txt /dl\n` })]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("the destination must be a directory and end with a /");
    } finally {
      server.stop(true);
    }
  });
});

describe("ADD of several archives, and what the differential test found", () => {
  test("every local tar and tar.gz among ADD's sources is extracted, the other sources copied, one layer", async () => {
    const ctx = context("addtars", { Dockerfile: "FROM busybox\nADD a.tar b.tar.gz plain.txt /dst/\nADD a.tar /one/\n", "plain.txt": "plain\n", "a/x.txt": "ax\n", "b/y.txt": "by\n" });
    for (const [name, z] of [["a", ""], ["b", "z"]] as const) {
      const r = Bun.spawnSync(["tar", "-C", ctx, `-c${z}f`, join(ctx, name === "a" ? "a.tar" : "b.tar.gz"), name]);
      expect(r.exitCode).toBe(0);
    }
    await t.ok(["build", "--network", "none", "-t", "addtars", ctx]);
    expect(await run("addtars", "cd /dst && find . | sort && cat a/x.txt b/y.txt plain.txt && ls /one")).toBe(".\n./a\n./a/x.txt\n./b\n./b/y.txt\n./plain.txt\nax\nby\nplain\na\n");
    const history = await t.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "addtars"]);
    expect(history).toMatch(/^\/bin\/sh -c #\(nop\) ADD file:[0-9a-f]{64} in \/one\/ \n\/bin\/sh -c #\(nop\) ADD multi:[0-9a-f]{64} in \/dst\/ \n/);
    const bad = await t.tsd(["build", "--network", "none", context("addtars2", { Dockerfile: "FROM busybox\nADD a.tar plain.txt /dst\n", "plain.txt": "p\n", "a.tar": "" })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("the destination must be a directory and end with a /");
  });

  test("a symlink source is followed, the directory copied into keeps its mode, SHELL is in the config, RUN leaves no mount points", async () => {
    const ctx = context("diffound", { Dockerfile: "FROM busybox\nCOPY link.txt d/ /tmp/\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN ls -ld /tmp | cut -c1-10 > /tmp-mode\n", "target.txt": "target\n", "d/in.txt": "in\n" });
    Bun.spawnSync(["ln", "-s", "target.txt", join(ctx, "link.txt")]);
    Bun.spawnSync(["chmod", "0750", join(ctx, "d")]);
    await t.ok(["build", "--network", "none", "-t", "diffound", ctx]);
    expect(await run("diffound", "cat /tmp-mode; ls -l /tmp/link.txt | cut -c1; cat /tmp/link.txt /tmp/in.txt")).toBe("drwxrwxrwt\n-\ntarget\nin\n");
    expect((await t.ok(["image", "inspect", "-f", "{{json .Config.Shell}}", "diffound"])).trim()).toBe('["/bin/sh","-ec"]');
    // The RUN's layer holds only /tmp-mode (busybox has no /dev, /proc, /sys of its own).
    const out = join(work, "diffound.tar");
    await t.ok(["save", "-o", out, "diffound"]);
    const files = Bun.spawnSync(["python3", join(import.meta.dir, "../lib/image-fs.py"), out]);
    const fs = JSON.parse(files.stdout.toString()) as { files: Record<string, unknown> };
    expect(["/dev", "/proc", "/sys"].filter((p) => p in fs.files)).toEqual([]);
    expect("/tmp-mode" in fs.files).toBe(true);
  });
});

describe("image prune", () => {
  test("keeps a tagged image's build steps (a rebuild takes them from the cache), drops an untagged build's with it", async () => {
    await t.ok(["image", "prune", "-f"]); // what earlier tests left untagged
    const start = (await t.ok(["images", "-a", "-q"])).trim().split("\n").length;
    const ctx = context("prunekeep", { Dockerfile: "FROM busybox AS first\nRUN echo 1 > /one\nFROM busybox\nENV K=v\nRUN echo 2 > /two\nCOPY --from=first /one /one\n" });
    await t.ok(["build", "--network", "none", "-t", "prunekeep", ctx]);
    const before = (await t.ok(["images", "-a", "-q"])).trim().split("\n").length;
    const pruned = await t.ok(["image", "prune", "-f"]);
    // The first stage's result is nobody's parent and untagged: it goes with its step images,
    // and the layer of its RUN, which no other image holds (Docker's line for a layer).
    expect(pruned.match(/deleted: sha256:/g)?.length).toBe(2);
    expect((await t.ok(["images", "-a", "-q"])).trim().split("\n").length).toBe(before - 1);
    const again = await t.ok(["build", "--network", "none", "-t", "prunekeep", ctx]);
    const cached = again.split("\n").filter((l) => l === " ---> Using cache").length;
    expect(cached).toBe(3); // ENV, RUN, COPY --from (the first stage's RUN is made again)
    // Untagged: the result and every step of its own go; busybox stays.
    await t.ok(["rmi", "prunekeep"]);
    await t.ok(["image", "prune", "-f"]);
    expect((await t.ok(["images", "-a", "-q"])).trim().split("\n").length).toBe(start);
  });
});

describe("independent stages", () => {
  // Each RUN waits for the other's file in a shared cache mount: only a build that runs
  // both stages at once finishes (one after the other, the first gives up after 20 s).
  const df = [
    "FROM busybox AS a",
    "RUN --mount=type=cache,target=/sync,id=sync-$RANDOM_ID echo from-a && touch /sync/a && for i in $(seq 400); do [ -f /sync/b ] && exit 0; sleep 0.05; done; exit 9",
    "FROM busybox AS b",
    "RUN --mount=type=cache,target=/sync,id=sync-$RANDOM_ID echo from-b && touch /sync/b && for i in $(seq 400); do [ -f /sync/a ] && exit 0; sleep 0.05; done; exit 9",
    "FROM busybox",
    "COPY --from=a /etc/passwd /a",
    "COPY --from=b /etc/passwd /b",
  ].join("\n");
  const cpus = navigator.hardwareConcurrency;
  test.skipIf(cpus < 2)("build at once (RUNs meet), and print as one after the other would", async () => {
    const ctx = context("parallel", { Dockerfile: df.replaceAll("$RANDOM_ID", String(Date.now())) });
    const r = await t.tsd(["build", "--no-cache", "--network", "none", ctx], { timeoutMs: 60000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const steps = lines.filter((l) => l.startsWith("Step ")).map((l) => Number(/^Step (\d+)\//.exec(l)![1]));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Stage b's RUN output after all of stage a's lines, before its own step 4.
    const at = (s: string) => lines.findIndex((l) => l.startsWith(s));
    expect(at("from-a")).toBeGreaterThan(at("Step 2/"));
    expect(at("from-a")).toBeLessThan(at("Step 3/"));
    expect(at("from-b")).toBeGreaterThan(at("Step 4/"));
    expect(at("from-b")).toBeLessThan(at("Step 5/"));
  });

  test("sharing=locked: RUNs of stages at once take a cache mount one after the other", async () => {
    const locked = (n: string) => `RUN --mount=type=cache,target=/c,id=lk-${Date.now()},sharing=locked [ ! -e /c/busy ] && touch /c/busy && sleep 0.5 && rm /c/busy && echo ${n} >> /c/log && cat /c/log > /log`;
    const ctx = context("locked", { Dockerfile: `FROM busybox AS a\n${locked("a")}\nFROM busybox AS b\n${locked("b")}\nFROM busybox\nCOPY --from=a /log /la\nCOPY --from=b /log /lb\n` });
    const r = await t.tsd(["build", "--network", "none", "-t", "locked", ctx], { timeoutMs: 60000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await run("locked", "cat /la /lb")).split("\n").filter(Boolean).length).toBe(3);
  });

  test("the first failing stage's error; a later stage prints nothing", async () => {
    const ctx = context("parallelfail", { Dockerfile: "FROM busybox AS a\nRUN sleep 1; echo a-done\nFROM busybox AS b\nRUN echo b-fails; exit 3\nFROM busybox AS c\nRUN echo c-runs\n" });
    const r = await t.tsd(["build", "--no-cache", "--network", "none", ctx], { timeoutMs: 60000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("The command '/bin/sh -c echo b-fails; exit 3' returned a non-zero code: 3");
    expect(r.stdout).toContain("a-done");
    expect(r.stdout).toContain("b-fails");
    expect(r.stdout).not.toContain("Step 5/");
    expect(r.stdout).not.toContain("c-runs");
    expect(await t.ok(["ps", "-aq"])).toBe("");
  });
});
