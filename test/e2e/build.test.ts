// tsd build: a multi-stage Dockerfile with every instruction the builder has, the image it
// makes (run, inspect, history), the step cache across invocations and its invalidation, a
// failing RUN leaving nothing, Dockerfile errors with their line, the context's boundary and
// .dockerignore, and a hostile base image's symlinks never redirecting a COPY onto the host.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { buildFixture } from "../lib/build-fixture";
import { testImages } from "../lib/fixtures";
import { push, startRegistry } from "../lib/registry";

setDefaultTimeout(60000);
let t: TestRoot;
let work: string;
const { context } = buildFixture("build", (root, dir) => {
  t = root;
  work = dir;
});

const MULTI = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS builder
ARG GREETING=hello
ENV DIR=/out \\
    EMPTY=
WORKDIR $DIR
COPY app/ src/
COPY top.txt ./
RUN echo "$GREETING from $(pwd)" > made.txt && ls src > listing
SHELL ["/bin/sh", "-ec"]
RUN ["sh", "-c", "echo exec-form > /out/exec.txt"]

FROM busybox
LABEL org.example.name="the app" version=1
COPY --from=builder /out /app
COPY --chown=1000:1000 --chmod=0640 top.txt /owned/top.txt
ENV PATH=/app/bin:$PATH GREETING=\${GREETING:-unset}
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
WORKDIR /app
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD test -f /app/made.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/made.txt /app/listing /app/exec.txt /app/top.txt"]
`;

describe("a multi-stage build", () => {
  let ctx: string;
  let id: string;
  beforeAll(async () => {
    ctx = context("multi", { Dockerfile: MULTI, "app/a.txt": "a\n", "app/b/c.txt": "c\n", "top.txt": "top\n", "ignored.txt": "secret\n", ".dockerignore": "ignored.txt\n**/*.tmp\n", "app/x.tmp": "tmp\n" });
  });

  test("builds with docker build's progress, tags, --iidfile", async () => {
    const r = await t.tsd(["build", "--network", "none", "-t", "app:1", "-t", "app:latest", "--build-arg", "GREETING=hi", "--iidfile", join(work, "iid"), ctx], { timeoutMs: 120000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^Sending build context to Docker daemon  \d+(\.\d+)?kB\r\r$/);
    expect(lines[1]).toBe("Step 1/23 : ARG BASE=busybox");
    expect(lines[2]).toBe("Step 2/23 : FROM $BASE AS builder");
    expect(lines).toContain("Step 8/23 : RUN echo \"$GREETING from $(pwd)\" > made.txt && ls src > listing");
    expect(r.stdout).toMatch(/ ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
    const m = /Successfully built ([0-9a-f]{12})\nSuccessfully tagged app:1\nSuccessfully tagged app:latest\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    id = readFileSync(join(work, "iid"), "utf8");
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(id.slice(7, 19)).toBe(m![1]!);
  }, 120000);

  test("the image runs: files from the other stage, the context without .dockerignore's", async () => {
    expect(await t.ok(["run", "--rm", "--network", "none", "app:1"])).toBe("hi from /out\na.txt\nb\nexec-form\ntop\n");
    const ls = await t.ok(["run", "--rm", "--network", "none", "--entrypoint", "", "-u", "0", "app:1", "sh", "-c", "ls -ln /owned/top.txt; ls /app/src /app/src/b; ls /app | sort | tr '\\n' ' '"]);
    expect(ls).toMatch(/^-rw-r-----\s+1 1000\s+1000\s+4 .* \/owned\/top.txt\n/);
    expect(ls).toContain("a.txt\nb\n");
    expect(ls).not.toContain("x.tmp");
    expect(ls).toContain("exec.txt listing made.txt src top.txt ");
  });

  test("inspect shows the config and the history marks metadata steps empty_layer", async () => {
    const c = JSON.parse(await t.ok(["inspect", "-f", "{{json .Config}}", "app:1"]));
    expect(c.Cmd).toEqual(["cat /app/made.txt /app/listing /app/exec.txt /app/top.txt"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c"]);
    expect(c.Env).toEqual(["PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=unset"]);
    expect(c.WorkingDir).toBe("/app");
    expect(c.User).toBe("1000:1000");
    expect(c.ExposedPorts).toEqual({ "8080/tcp": {}, "53/udp": {} });
    expect(c.Volumes).toEqual({ "/data": {} });
    expect(c.StopSignal).toBe("SIGQUIT");
    expect(c.Labels).toEqual({ "org.example.name": "the app", version: "1" });
    expect(c.Healthcheck).toEqual({ Test: ["CMD-SHELL", "test -f /app/made.txt"], Interval: 30e9, Timeout: 5e9, StartPeriod: 0, Retries: 2 });
    const hist = (await t.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"])).trim().split("\n");
    expect(hist[0]).toBe('/bin/sh -c #(nop)  CMD ["cat /app/made.txt /app/listing /app/exec.txt /app/top.txt"]');
    expect(hist).toContain("/bin/sh -c #(nop)  EXPOSE 8080 53/udp");
    expect(hist).toContain("/bin/sh -c #(nop) WORKDIR /app");
    const blob = JSON.parse(await t.ok(["image", "inspect", "-f", "{{json .RootFS.Layers}}", "app:1"]));
    // busybox's one layer + two COPYs.
    expect(blob.length).toBe(3);
    const cfgHist = JSON.parse(readFileSync(join(t.dir, "blobs/sha256", id.slice(7)), "utf8")).history as { created_by: string; empty_layer?: boolean }[];
    const nonEmpty = cfgHist.filter((h) => !h.empty_layer).map((h) => h.created_by);
    expect(nonEmpty.length).toBe(3);
    expect(nonEmpty[1]).toMatch(/^\/bin\/sh -c #\(nop\) COPY --from=builder dir:[0-9a-f]{64} in \/app $/);
    expect(cfgHist.filter((h) => h.empty_layer).length).toBe(cfgHist.length - 3);
  });

  test("a second build takes every step from the cache and gives the same id; images hides the steps", async () => {
    const r = await t.tsd(["build", "--network", "none", "-t", "app:1", "--build-arg", "GREETING=hi", ctx], { timeoutMs: 120000 });
    expect(r.code).toBe(0);
    const steps = r.stdout.split("\n").filter((l) => l.startsWith("Step ")).length;
    // Every step but the ARG and the two FROMs.
    expect(r.stdout.split("\n").filter((l) => l === " ---> Using cache").length).toBe(steps - 3);
    expect(r.stdout).not.toContain("Running in");
    expect(r.stdout).toContain(`Successfully built ${id.slice(7, 19)}\n`);
    const q = await t.ok(["build", "-q", "--network", "none", "--build-arg", "GREETING=hi", ctx]);
    expect(q).toBe(`${id}\n`);
    const images = await t.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(images.trim().split("\n").sort()).toEqual(["app:1", "app:latest", "busybox:latest"]);
    expect((await t.ok(["images", "-a", "-q"])).trim().split("\n").length).toBeGreaterThan(10);
  }, 120000);

  test("a changed file invalidates from its COPY on; another build arg from the RUN that sees it", async () => {
    writeFileSync(join(ctx, "app/a.txt"), "changed\n");
    const r = await t.tsd(["build", "--network", "none", "--build-arg", "GREETING=hi", ctx], { timeoutMs: 120000 });
    expect(r.code).toBe(0);
    const out = r.stdout;
    const step = (n: number) => out.slice(out.indexOf(`Step ${n}/`), out.indexOf(`Step ${n + 1}/`));
    for (const n of [3, 4, 5]) expect(step(n)).toContain("Using cache");
    expect(step(6)).not.toContain("Using cache"); // COPY app/ src/
    expect(step(7)).not.toContain("Using cache");
    expect(step(8)).toContain("Running in");
    writeFileSync(join(ctx, "app/a.txt"), "a\n");
  }, 120000);
});

describe("ADD, heredocs, WORKDIR", () => {
  test("ADD extracts a local tar (plain or gzip'd) into DEST; COPY <<EOF writes files; WORKDIR makes its directory", async () => {
    const ctx = context("add", { "tree/dir/f": "in-tar\n", "plain.txt": "plain\n" });
    Bun.spawnSync(["tar", "-C", join(ctx, "tree"), "--owner=7", "--group=8", "-czf", join(ctx, "t.tgz"), "dir"]);
    Bun.spawnSync(["tar", "-C", join(ctx, "tree"), "-cf", join(ctx, "t.tar"), "dir"]);
    writeFileSync(
      join(ctx, "Dockerfile"),
      'FROM busybox\nARG WHO=world\nADD t.tgz /opt/new/\nADD t.tar /srv\nADD plain.txt /p.txt\nCOPY <<EOF <<"RAW" /docs/\nhello $WHO "quoted"\nEOF\nkeep $WHO\nRAW\nWORKDIR /made/here\nRUN pwd > /pwd\n',
    );
    await t.ok(["build", "--network", "none", "-t", "add:1", ctx]);
    const out = await t.ok(["run", "--rm", "--network", "none", "add:1", "sh", "-c", "cat /opt/new/dir/f /srv/dir/f /p.txt /docs/EOF /docs/RAW /pwd; stat -c '%u:%g' /opt/new/dir/f"]);
    expect(out).toBe('in-tar\nin-tar\nplain\nhello world "quoted"\nkeep $WHO\n/made/here\n7:8\n');
    const hist = (await t.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", "add:1"])).trim().split("\n");
    expect(hist.find((h) => h.includes("WORKDIR /made/here"))).not.toContain("|0B");
    expect(hist.find((h) => h.includes("#(nop) ADD file:") && h.includes(" in /opt/new/ "))).toBeDefined();
  });
});

describe("ADD of a URL", () => {
  test("downloads from 127.0.0.1 into DEST/ under the URL's name, mode 0600; a 404 is one error", async () => {
    let body = "v1\n";
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (new URL(req.url).pathname === "/files/data.txt" ? new Response(body) : new Response("no", { status: 404 })) });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const ctx = context("addurl", { Dockerfile: `FROM busybox\nADD ${base}/files/data.txt /dl/\nADD ${base}/files/data.txt /named.txt\n` });
      await t.ok(["build", "-t", "addurl:1", ctx]);
      expect(await t.ok(["run", "--rm", "--network", "none", "addurl:1", "sh", "-c", "cat /dl/data.txt /named.txt; stat -c %a /dl/data.txt"])).toBe("v1\nv1\n600\n");
      expect(await t.ok(["build", ctx])).toContain("Using cache");
      body = "v2\n";
      expect(await t.ok(["build", ctx])).not.toContain("Using cache");
      const missing = await t.tsd(["build", context("addurl404", { Dockerfile: `FROM busybox\nADD ${base}/nope /x\n` })]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("answered 404");
    } finally {
      server.stop(true);
    }
  });
});

describe("contexts", () => {
  test("a tar file, a gzip'd tar on stdin, and a Dockerfile alone on stdin", async () => {
    const dir = context("tarctx", { Dockerfile: "FROM busybox\nCOPY f /f\n", "alt.Dockerfile": "FROM busybox\nCOPY f /alt\n", f: "from-tar\n" });
    const tar = join(work, "ctx.tar");
    Bun.spawnSync(["tar", "-C", dir, "-cf", tar, "."]);
    await t.ok(["build", "-t", "tarctx:1", tar]);
    expect(await t.ok(["run", "--rm", "--network", "none", "tarctx:1", "cat", "/f"])).toBe("from-tar\n");
    const tgz = Bun.spawnSync(["tar", "-C", dir, "-cz", "."]).stdout;
    await t.ok(["build", "-f", "alt.Dockerfile", "-t", "tarctx:2", "-"], { stdin: tgz });
    expect(await t.ok(["run", "--rm", "--network", "none", "tarctx:2", "cat", "/alt"])).toBe("from-tar\n");
    await t.ok(["build", "-t", "tarctx:3", "-"], { stdin: "FROM busybox\nENV ONLY=dockerfile\n" });
    expect(await t.ok(["inspect", "-f", "{{index .Config.Env 1}}", "tarctx:3"])).toBe("ONLY=dockerfile\n");
    const noCtx = await t.tsd(["build", "-"], { stdin: "FROM busybox\nCOPY f /f\n" });
    expect(noCtx.code).toBe(1);
    expect(noCtx.stderr).toContain("file not found in build context");
  });
});

describe("failures", () => {
  test("a failing RUN exits with its status, Docker's message, and leaves no container or image", async () => {
    const before = (await t.ok(["images", "-a", "-q"])).trim().split("\n").length;
    const ctx = context("fail", { Dockerfile: "FROM busybox\nRUN echo before\nRUN touch /x && exit 3\nRUN echo never\n" });
    const r = await t.tsd(["build", "--network", "none", "-t", "fail:1", ctx]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("The command '/bin/sh -c touch /x && exit 3' returned a non-zero code: 3");
    expect(r.stdout).not.toContain("never");
    expect(await t.ok(["ps", "-aq"])).toBe("");
    expect(t.containerDirs()).toEqual([]);
    expect((await t.tsd(["inspect", "fail:1"])).code).toBe(1);
    // The one step that succeeded stays (the cache), nothing of the failing one.
    expect((await t.ok(["images", "-a", "-q"])).trim().split("\n").length).toBe(before + 1);
    expect(readdirSync(join(t.dir, "tmp")).filter((d) => d.startsWith("build-"))).toEqual([]);
  });

  test("Ctrl-C during a RUN kills its container and leaves nothing of the build", async () => {
    const ctx = context("interrupt", { Dockerfile: "FROM busybox\nRUN echo started && sleep 60\nRUN echo never\n" });
    const proc = Bun.spawn([TSD, "--root", t.dir, "build", "--network", "none", "-t", "int:1", ctx], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    const started = Date.now();
    while (!out.includes("started\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    proc.kill("SIGINT");
    const code = await proc.exited;
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(20000);
    expect(await new Response(proc.stderr).text()).toContain("interrupted");
    expect(await t.ok(["ps", "-aq"])).toBe("");
    expect(t.containerDirs()).toEqual([]);
    expect(t.leaks()).toEqual([]);
    expect((await t.tsd(["inspect", "int:1"])).code).toBe(1);
  });

  test("Dockerfile errors name the line", async () => {
    const unknown = await t.tsd(["build", context("bad1", { Dockerfile: "FROM busybox\n\n# c\nRUNN echo\n" })]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("dockerfile parse error line 4: unknown instruction: RUNN");
    const badArg = await t.tsd(["build", context("bad2", { Dockerfile: "FROM busybox\nEXPOSE 80\nSTOPSIGNAL NOPE\n" })]);
    expect(badArg.code).toBe(1);
    expect(badArg.stderr).toContain("line 3: invalid signal: NOPE");
    const subst = await t.tsd(["build", context("bad3", { Dockerfile: "FROM busybox\nENV A=${B\n" })]);
    expect(subst.stderr).toContain("line 2: missing '}'");
  });

  test("COPY outside the context, or of an ignored file, is refused", async () => {
    const out = await t.tsd(["build", context("escape/ctx", { Dockerfile: "FROM busybox\nCOPY ../secret /s\n" })]);
    writeFileSync(join(work, "escape/secret"), "no");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("forbidden path outside the build context: ../secret");
    const ign = await t.tsd(["build", context("ign", { Dockerfile: "FROM busybox\nCOPY s.txt /s\n", "s.txt": "x", ".dockerignore": "*.txt\n" })]);
    expect(ign.code).toBe(1);
    expect(ign.stderr).toContain("file not found in build context or excluded by .dockerignore: stat s.txt");
    expect(await t.ok(["ps", "-aq"])).toBe("");
  });

  test("--target stops at a stage; an unknown target is an error", async () => {
    const ctx = context("target", { Dockerfile: "FROM busybox AS one\nENV STAGE=one\nFROM busybox AS two\nENV STAGE=two\n" });
    const r = await t.ok(["build", "--target", "one", "--label", "x=y", "-t", "tgt:1", ctx]);
    expect(r).not.toContain("STAGE=two");
    expect(await t.ok(["inspect", "-f", "{{json .Config.Env}} {{json .Config.Labels}}", "tgt:1"])).toContain('"STAGE=one"] {"x":"y"}');
    const bad = await t.tsd(["build", "--target", "three", ctx]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("failed to reach build target three in Dockerfile");
  });
});

describe("a hostile base image", () => {
  const host = `/tmp/tsd-e2e-build-host-${process.pid}`;
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  test("its symlinks to host paths never make COPY write outside the rootfs", async () => {
    mkdirSync(host, { recursive: true });
    const base = context("hostile-base", { Dockerfile: `FROM busybox\nRUN ln -s ${host} /target && ln -s ../../../../../..${host} /up && mkdir -p .${host}\n` });
    await t.ok(["build", "--network", "none", "-t", "hostile:1", base]);
    const ctx = context("hostile", { Dockerfile: "FROM hostile:1\nCOPY f /target/f1\nCOPY f /up/\nCOPY d /target/\n", f: "payload\n", "d/g": "g\n" });
    const r = await t.tsd(["build", "--network", "none", "-t", "hostile:2", ctx]);
    expect(readdirSync(host)).toEqual([]);
    expect(r.code).toBe(0);
    // Resolved inside the rootfs, as the container itself would see the links.
    expect(await t.ok(["run", "--rm", "--network", "none", "hostile:2", "sh", "-c", `cat ${host}/f1 ${host}/f ${host}/g`])).toBe("payload\npayload\ng\n");
  });
});

describe("cache lifetime", () => {
  test("image prune and builder prune drop the cache; --no-cache ignores it", async () => {
    const ctx = context("prune", { Dockerfile: "FROM busybox\nRUN echo one > /one\n" });
    await t.ok(["build", "--network", "none", ctx]);
    expect(await t.ok(["build", "--network", "none", ctx])).toContain("Using cache");
    expect(await t.ok(["build", "--no-cache", "--network", "none", ctx])).not.toContain("Using cache");
    await t.ok(["image", "prune", "-f"]);
    expect(await t.ok(["build", "--network", "none", "-t", "kept:1", ctx])).not.toContain("Using cache");
    // builder prune: the cache and the steps' images go; a tagged result stays and runs.
    expect(await t.ok(["builder", "prune", "-f"])).toContain("Total reclaimed space:");
    expect(await t.ok(["build", "--network", "none", ctx])).not.toContain("Using cache");
    expect(await t.ok(["run", "--rm", "--network", "none", "kept:1", "cat", "/one"])).toBe("one\n");
    expect(existsSync(join(t.dir, "tsd.db"))).toBe(true);
  });
});

describe("base images from a registry", () => {
  test("a missing FROM image is pulled (Docker's builder does); --pull pulls it again", async () => {
    const images = await testImages();
    const reg = await startRegistry();
    const fresh = new TestRoot("build-pull");
    const ctx = mkdtempSync("/tmp/tsd-e2e-build-pull-");
    try {
      await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/lib/base:1`);
      writeFileSync(join(ctx, "Dockerfile"), `FROM ${reg.host}/lib/base:1\nRUN echo pulled > /p\n`);
      const r = await fresh.tsd(["build", "-t", "frompull", "--network", "none", ctx], { timeoutMs: 120000 });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`Unable to find image '${reg.host}/lib/base:1' locally`);
      expect(await fresh.ok(["run", "--rm", "--network", "none", "frompull", "cat", "/p"])).toBe("pulled\n");
      expect(await fresh.ok(["images", "-q", `${reg.host}/lib/base:1`])).not.toBe("");
      // Present now: no pull without --pull; with it, the registry is asked again.
      const again = await fresh.tsd(["build", "-q", ctx]);
      expect(again.stderr).not.toContain("Pulling from");
      const pulled = await fresh.tsd(["build", "--pull", "-q", ctx]);
      expect(pulled.code).toBe(0);
      expect(pulled.stderr).toContain("Image is up to date");
      // A FROM that names nothing anywhere: one line, status 1, nothing left.
      writeFileSync(join(ctx, "Dockerfile"), `FROM ${reg.host}/lib/nothing:1\n`);
      const none = await fresh.tsd(["build", ctx]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("not found");
    } finally {
      rmSync(ctx, { recursive: true, force: true });
      const leaks = fresh.leaks();
      await fresh.destroy();
      await reg.stop();
      expect(leaks).toEqual([]);
    }
  });
});
