// `tsd build`: a Dockerfile's stages built step by step as Docker's classic builder does it.
// Each metadata step is a new image with one more empty_layer history entry; RUN, COPY and
// ADD each add one layer (build-run.ts, build-copy.ts). A step is taken from the cache when
// its parent image, its instruction (with COPY's content hash, RUN's ARGs) and the config
// match (image/build/cache.ts). Progress as `docker build` prints it.
import { ensureImage } from "../image/registry/ensure";
import type { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { unpackArchive } from "../image/unpack-child";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { TsdError } from "../errors";
import { Slots } from "../io";
import { cacheKey, cachedImage, markBuildResult, rememberStep } from "../image/build/cache";
import { contextSizeText, contextTarSize, followSource, loadContext, resolveSource, type Context } from "../image/build/context";
import { randomId } from "../store/ids";
import { flagValue, parseDockerfile, type Instruction } from "../image/build/dockerfile";
import { metadataImage, scratchImage } from "../image/build/image";
import { hostArchitecture, parsePlatform, platformString } from "../image/media";
import { canRunArch } from "../image/build/binfmt";
import { parseRunMount } from "../image/build/run-mount";
import { mountStubs, planMounts, removeStubs } from "./build-mounts";
import { applyMetadata, DEFAULT_SHELL, expansionEnv, joinPath, runArgv, runCreatedBy, runEnv, type StageState } from "../image/build/instructions";
import { expand, expandWords, planStages, platformArgs, PROXY_ARGS, stageNamed, type Plan, type Stage } from "../image/build/stages";
import { commitUpper } from "../image/commit";
import { familiarName, type Reference } from "../image/reference";
import { findImage, tagImage, type ImageRecord } from "../image/store";
import { takeLease } from "../image/lease";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { applyArchives, archiveKind, contextFromImage, copyLayer, heredocContext, planCopy, stageArchives, stageWorkdir, urlContext, type CopyRequest, type LayerDir } from "./build-copy";
import { cleanPath } from "../image/build/dockerignore";
import { processHeredoc } from "../image/build/shell-words";
import { checkAbort, runStep, type Abort } from "./build-run";
import { killInit } from "./lifecycle";
import { containerById } from "./store";
import { randomName } from "./names";
import { recordEvent } from "../store/events";

/** A directory, a tar (a file, or stdin's bytes), or none (a Dockerfile on stdin). */
export type BuildContext = { kind: "dir"; dir: string } | { kind: "tar"; file?: string; bytes?: Uint8Array } | { kind: "none" };

export interface BuildOptions {
  context: BuildContext;
  /** The Dockerfile's text, or its name inside a tar context. */
  dockerfile: string | { name: string };
  tags: Reference[];
  buildArgs: Map<string, string>;
  target?: string;
  noCache: boolean;
  quiet: boolean;
  network?: string;
  /** --pull: every base image pulled again (a missing one is pulled anyway). */
  pull?: boolean;
  /** --platform: the platform base images are pulled for (FROM --platform overrides it). */
  platform?: string;
  labels: [string, string][];
  /** Progress lines (stdout unless -q). */
  out: (line: string) => void;
}

interface Run {
  db: Database;
  root: string;
  o: BuildOptions;
  plan: Plan;
  ctx: Context;
  work: string;
  step: number;
  total: number;
  /** Each stage's image once built (independent stages build at once). */
  done: Promise<ImageRecord>[];
  used: Set<string>;
  abort: Abort;
  /** RUN containers at once: the machine's CPUs. */
  slots: Slots;
  /** Base image pulls, one at a time (their progress on stderr stays readable). */
  pulls: { last: Promise<unknown> };
  /** The first stage that failed: later stages stop at their next step. */
  failed: { at: number };
  /** Whether this stage's output reaches the terminal now (earlier stages have printed theirs). */
  live?: () => boolean;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Ctrl-C (SIGINT, SIGTERM, SIGHUP) during a build: the RUN container under way is killed (again
 * until it is gone: its init may not have reported yet), and the build ends after that step
 * with 128+N, its container, work dir and partial image removed as any failure's.
 */
async function withAbort<T>(db: Database, abort: Abort, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  const kill = () => {
    for (const id of abort.containers) {
      const row = containerById(db, id);
      if (row) killInit(row);
    }
  };
  const handlers = (Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]).map((sig) => {
    const h = () => {
      abort.signal ??= SIGNALS[sig];
      kill();
      timer ??= setInterval(kill, 100);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await fn();
  } finally {
    if (timer) clearInterval(timer);
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** Builds; returns the image id (tagged as asked). */
export async function buildImage(db: Database, root: string, o: BuildOptions): Promise<string> {
  sweepStaleWorkDirs(root);
  const work = makeWorkDir(root, "build");
  // The layers and blobs a step makes have no image row for a moment: a collection meanwhile
  // (rmi, image prune in another process) leaves the store alone, as for a pull or commit.
  const lease = takeLease(root);
  let r: Run;
  let result: ImageRecord;
  try {
    const ctx = await prepareContext(root, work, o.context);
    const df = parseDockerfile(typeof o.dockerfile === "string" ? o.dockerfile : contextDockerfile(ctx, o.dockerfile.name));
    const target = platformString(parsePlatform(o.platform));
    const plan = planStages(df, o.buildArgs, platformArgs(platformString(parsePlatform(undefined)), target));
    const last = targetStage(plan, o.target);
    plan.stages = plan.stages.slice(0, last + 1);
    if (o.labels.length > 0) plan.stages[last]!.instructions.push(labelInstruction(o.labels, plan.stages[last]!.instructions.at(-1)?.line ?? plan.stages[last]!.from.line));
    const total = plan.metaArgs.length + plan.stages.reduce((n, s) => n + 1 + s.instructions.length, 0);
    r = { db, root, o, plan, ctx, work, step: 0, total, done: [], used: new Set(), abort: { containers: new Set() }, slots: new Slots(Math.max(1, availableParallelism())), pulls: { last: Promise.resolve() }, failed: { at: Infinity } };
    // Byte for byte the Docker CLI's line (its progress bar's carriage returns included).
    o.out(`Sending build context to Docker daemon  ${contextSizeText(sentSize(o, ctx))}\r\r`);
    for (const ins of plan.metaArgs) {
      progress(r, ins);
      for (const k of plan.meta.keys()) if (o.buildArgs.has(k)) r.used.add(k);
    }
    const run = r;
    result = await withAbort(db, r.abort, () => buildStages(run));
  } finally {
    rmSync(work, { recursive: true, force: true });
    lease.release();
  }
  return finish(r, result);
}

/**
 * Every stage at once, each waiting for the stages it names when it needs them (FROM, COPY
 * --from, RUN --mount from=); RUNs share the machine's CPUs. The output is the sequential
 * build's: a stage's lines are held until every earlier stage has printed its own. The error
 * is the first failing stage's; later stages stop at their next step, and print nothing.
 */
async function buildStages(r: Run): Promise<ImageRecord> {
  const stages = r.plan.stages;
  const order = new OrderedOutput(stages.length, r.o.out);
  let first = r.step;
  for (const stage of stages) {
    const sr: Run = { ...r, step: first, o: { ...r.o, out: order.sink(stage.index) }, live: () => order.live(stage.index) };
    first += 1 + stage.instructions.length;
    r.done[stage.index] = buildStage(sr, stage).then(
      (image) => {
        order.finish(stage.index, true);
        return image;
      },
      (e: unknown) => {
        r.failed.at = Math.min(r.failed.at, stage.index);
        order.finish(stage.index, false);
        throw e;
      },
    );
  }
  const settled = await Promise.allSettled(r.done);
  const bad = settled.findIndex((x) => x.status === "rejected");
  if (bad >= 0) throw (settled[bad] as PromiseRejectedResult).reason;
  return (settled.at(-1) as PromiseFulfilledResult<ImageRecord>).value;
}

/** Lines of stage i go out once stages 0..i-1 have finished; a failed stage's are the last. */
class OrderedOutput {
  private head = 0;
  private held: string[][];
  private state: ("running" | "ok" | "failed")[];
  constructor(
    private n: number,
    private out: (line: string) => void,
  ) {
    this.held = Array.from({ length: n }, () => []);
    this.state = Array.from({ length: n }, () => "running");
  }
  live(i: number): boolean {
    return i === this.head;
  }
  sink(i: number): (line: string) => void {
    return (line) => (i === this.head ? this.out(line) : this.held[i]!.push(line));
  }
  finish(i: number, ok: boolean): void {
    this.state[i] = ok ? "ok" : "failed";
    while (this.head < this.n && this.state[this.head] === "ok") {
      this.head++;
      if (this.head < this.n) for (const line of this.held[this.head]!.splice(0)) this.out(line);
    }
  }
}

/** What the Docker CLI would have sent: the tar given, or the context's tar with the Dockerfile. */
function sentSize(o: BuildOptions, ctx: Context): number {
  const c = o.context;
  if (c.kind === "tar") return c.bytes ? c.bytes.length : statSync(c.file!).size;
  const outside = typeof o.dockerfile === "string" && !ctx.entries.has("Dockerfile") ? Buffer.byteLength(o.dockerfile) : undefined;
  return contextTarSize(ctx, outside);
}

function finish(r: Run, image: ImageRecord): string {
  const o = r.o;
  if (image.id === "") throw new TsdError("No image was generated. Is your Dockerfile empty?", 1);
  const unused = [...o.buildArgs.keys()].filter((k) => !r.used.has(k) && !PROXY_ARGS.includes(k));
  if (unused.length > 0) o.out(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed`);
  markBuildResult(r.db, image.id);
  o.out(`Successfully built ${image.id.slice(0, 12)}`);
  for (const ref of o.tags) {
    tagImage(r.db, ref, image.id, true);
    o.out(`Successfully tagged ${familiarName(ref)}`);
  }
  return image.id;
}

/** The context: a directory as it is, a tar (file or stdin's bytes) unpacked with load's containment, or none. */
async function prepareContext(root: string, work: string, c: BuildContext): Promise<Context> {
  if (c.kind === "none") return { dir: join(work, "no-context"), entries: new Map() };
  if (c.kind === "dir") return loadContext(c.dir);
  let file = c.file;
  if (file === undefined) {
    file = join(work, "context.tar");
    writeFileSync(file, c.bytes!, { mode: 0o600 });
  }
  const dir = join(work, "context");
  mkdirSync(dir);
  await unpackArchive(root, file, dir).done;
  return loadContext(dir);
}

/** -f NAME inside a tar context: a regular file of it (a link could name a host file). */
function contextDockerfile(ctx: Context, name: string): string {
  const rel = cleanPath(name);
  if (ctx.entries.get(rel) !== "file") throw new TsdError(`unable to prepare context: the Dockerfile "${name}" is not a file of the build context`, 1);
  return readFileSync(join(ctx.dir, rel), "utf8");
}

function targetStage(plan: Plan, target: string | undefined): number {
  if (target === undefined) return plan.stages.length - 1;
  const s = stageNamed(plan, target, plan.stages.length);
  if (!s || s.name !== target.toLowerCase()) throw new TsdError(`failed to reach build target ${target} in Dockerfile`, 1);
  return s.index;
}

/** --label K=V: a LABEL step at the end, as the classic builder adds it. */
function labelInstruction(labels: [string, string][], line: number): Instruction {
  const q = (s: string) => JSON.stringify(s).replace(/\$/g, "\\$");
  const rest = labels.map(([k, v]) => `${q(k)}=${q(v)}`).join(" ");
  return { cmd: "LABEL", line, endLine: line, original: rest, flags: [], rest, heredocs: [] };
}

function progress(r: Run, ins: Instruction): void {
  r.step++;
  r.o.out(`Step ${r.step}/${r.total} : ${ins.cmd}${ins.original ? ` ${ins.original}` : ""}`);
}

async function buildStage(r: Run, stage: Stage): Promise<ImageRecord> {
  progress(r, stage.from);
  let image = await baseImage(r, stage);
  if (image.id !== "") r.o.out(` ---> ${image.id.slice(0, 12)}`);
  const config = JSON.parse(JSON.stringify(image.config.config ?? {})) as StageState["config"] & { OnBuild?: string[] | null };
  const triggers = config.OnBuild ?? [];
  if (config.OnBuild) config.OnBuild = null;
  const state: StageState = { config, args: new Map(), shell: [...(config.Shell && config.Shell.length > 0 ? config.Shell : DEFAULT_SHELL)], escape: r.plan.escape, buildArgs: r.o.buildArgs, meta: r.plan.meta, used: r.used };
  if (triggers.length > 0) r.o.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}`);
  for (const t of triggers) for (const ins of parseDockerfile(t).instructions) image = await buildStep(r, stage, state, image, ins);
  for (const ins of stage.instructions) {
    checkAbort(r.abort);
    if (r.failed.at < stage.index) throw new TsdError("an earlier stage failed", 1);
    progress(r, ins);
    image = await buildStep(r, stage, state, image, ins);
  }
  return image;
}

/** The stage's base: scratch, an earlier stage, or an image — pulled when missing (or always
 *  with --pull), as Docker's builder does, and for the stage's platform when the local one
 *  is another's. */
async function baseImage(r: Run, stage: Stage): Promise<ImageRecord> {
  const want = parsePlatform(stage.platform ?? r.o.platform);
  if (stage.base.toLowerCase() === "scratch") return scratchImage(want);
  const earlier = stageNamed(r.plan, stage.base, stage.index);
  if (earlier && earlier.name === stage.base.toLowerCase()) return r.done[earlier.index]!;
  const platform = stage.platform !== undefined || r.o.platform !== undefined ? { platform: platformString(want) } : {};
  const pull = r.pulls.last.catch(() => {}).then(() => {
    // Looked at in turn: an earlier stage's pull may just have brought it (or another platform's).
    const have = findImage(r.db, stage.base);
    const other = have !== undefined && !samePlatform(have, want);
    return ensureImage(r.db, r.root, stage.base, { policy: r.o.pull || other ? "always" : "missing", ...platform });
  });
  r.pulls.last = pull;
  await pull;
  const image = findImage(r.db, stage.base);
  if (!image) throw new TsdError(`unable to find image "${stage.base}": pull it with 'tsd pull' or load it with 'tsd load -i FILE'`, 1);
  if (!samePlatform(image, want)) throw new TsdError(`image ${stage.base} is ${imagePlatform(image)}, not the ${platformString(want)} the build asks for: pull it with 'tsd pull --platform ${platformString(want)}'`, 1);
  return image;
}

function imagePlatform(image: ImageRecord): string {
  return platformString({ os: image.config.os ?? "linux", architecture: image.config.architecture ?? "amd64" });
}

/** An image is for the platform when its os and architecture are (a variant only when both say one). */
function samePlatform(image: ImageRecord, want: ReturnType<typeof parsePlatform>): boolean {
  const c = image.config as { os?: string; architecture?: string; variant?: string };
  const variantOk = !want.variant || !c.variant || c.variant === want.variant;
  return (c.os ?? "linux") === want.os && parsePlatform(c.architecture ?? "amd64").architecture === want.architecture && variantOk;
}

/** One instruction: from the cache, or made. Returns the stage's image after it. */
async function buildStep(r: Run, stage: Stage, s: StageState, image: ImageRecord, ins: Instruction): Promise<ImageRecord> {
  const dir = join(r.work, `step-${r.step}`);
  mkdirSync(dir, { recursive: true });
  try {
    if (ins.cmd === "RUN") return await runInstruction(r, stage, s, image, ins, dir);
    if (ins.cmd === "COPY" || ins.cmd === "ADD") return await copyInstruction(r, stage, s, image, ins, dir);
    if (ins.cmd === "FROM") throw new TsdError(`line ${ins.line}: FROM is not allowed here`, 1);
    const createdBy = applyMetadata(s, ins)!;
    const workdir = ins.cmd === "WORKDIR" ? stageWorkdir(r.root, image, dir, s.config.WorkingDir!, createdBy) : undefined;
    if (workdir) return await cachedOr(r, image, createdBy, s, () => classicLines(r, image, async () => commitLayer(r, image, await copyLayer(r.db, r.root, image, dir, workdir), s, createdBy)));
    return await cachedOr(r, image, createdBy, s, () => classicLines(r, image, async () => metadataImage(r.db, r.root, image, s.config, createdBy, s.author)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The classic builder commits metadata steps from a container and prints its two lines; tsd
 * needs none, and prints the same lines (with an id of its own) so output stays Docker's.
 */
async function classicLines<T>(r: Run, parent: ImageRecord, make: () => Promise<T>): Promise<T> {
  const id = randomId();
  // Its events too: the container Docker's builder creates and destroys for the step.
  const attrs = { image: parent.id === "" ? "" : `sha256:${parent.id}`, name: randomName() };
  recordEvent(r.db, "container", "create", id, attrs);
  r.o.out(` ---> Running in ${id.slice(0, 12)}`);
  try {
    const made = await make();
    r.o.out(`Removing intermediate container ${id.slice(0, 12)}`);
    return made;
  } finally {
    recordEvent(r.db, "container", "destroy", id, attrs);
  }
}

/** The step's image from the cache (its lines printed), unless --no-cache or none. */
function cachedStep(r: Run, parent: ImageRecord, createdBy: string, s: StageState): ImageRecord | undefined {
  const hit = r.o.noCache ? undefined : cachedImage(r.db, cacheKey(parent.id || undefined, createdBy, s.config));
  if (hit) {
    r.o.out(" ---> Using cache");
    r.o.out(` ---> ${hit.id.slice(0, 12)}`);
  }
  return hit;
}

/** `keyExtra`: what else names the step in the cache (RUN --mount's sources), not in its history. */
async function cachedOr(r: Run, parent: ImageRecord, createdBy: string, s: StageState, make: () => Promise<ImageRecord>, keyExtra = ""): Promise<ImageRecord> {
  const key = cacheKey(parent.id || undefined, createdBy + keyExtra, s.config);
  const hit = cachedStep(r, parent, createdBy + keyExtra, s);
  if (hit) return hit;
  const made = await make();
  rememberStep(r.db, key, made.id, parent.id);
  r.o.out(` ---> ${made.id.slice(0, 12)}`);
  return made;
}

async function commitLayer(r: Run, parent: ImageRecord, layer: LayerDir, s: StageState, createdBy: string): Promise<ImageRecord> {
  // Every build layer's tree is settled: a staged COPY, the upper dir of an overlay whose
  // helper or container has exited.
  const id = await commitUpper(r.db, r.root, parent, layer.dir, s.config, { createdBy, adopt: layer.adopt, settled: true });
  return findImage(r.db, id)!;
}

const RUN_MOUNT_POINTS = ["/dev", "/proc", "/sys"];

async function runInstruction(r: Run, stage: Stage, s: StageState, image: ImageRecord, ins: Instruction, dir: string): Promise<ImageRecord> {
  const argv = runArgv(s, ins);
  const createdBy = runCreatedBy(s, argv);
  const network = flagValue(ins, "network") ?? r.o.network;
  const env = expansionEnv(s);
  const mounts = ins.flags.filter((f) => f.name === "mount").map((f) => parseRunMount(expand(ins, f.value ?? "", env, s.escape), ins.line));
  const planned = await planMounts(r, mounts, dir, (ref) => fromStageOrImage(r, stage, ref));
  const foreign = foreignArch(image);
  return cachedOr(
    r,
    image,
    createdBy,
    s,
    async () => {
      if (foreign) throw new TsdError(`line ${ins.line}: RUN cannot run for ${foreign}: this host runs linux/${hostArchitecture()} and has no binfmt_misc handler for it (install qemu-user-static and binfmt-support)`, 1);
      // The mount points the container needs (/dev, /proc, /sys; --mount targets) are made in
      // its upper dir when the image lacks them; left empty, they are not the layer's (Docker's
      // RUN layer holds none: they are in its container's init layer).
      const stubs = mountStubs(r.root, image, [...RUN_MOUNT_POINTS, ...mounts.map((x) => joinPath(s.config.WorkingDir || "/", x.target))]);
      const m = await planned.make();
      try {
      return await r.slots.with(() => runStep(r.db, r.root, image, { argv, env: runEnv(s), ...(s.config.User ? { user: s.config.User } : {}), ...(s.config.WorkingDir ? { workdir: s.config.WorkingDir } : {}), ...(network ? { network } : {}), volumes: m.volumes, tmpfs: m.tmpfs, quiet: r.o.quiet, out: r.o.out, ...(r.live ? { live: r.live } : {}), abort: r.abort }, (upper) => {
        removeStubs(upper, stubs);
        return commitLayer(r, image, { dir: upper, adopt: false }, s, createdBy);
      }));
      } finally {
        m.release();
      }
    },
    planned.key,
  );
}

async function copyInstruction(r: Run, stage: Stage, s: StageState, image: ImageRecord, ins: Instruction, dir: string): Promise<ImageRecord> {
  const env = new Map([...s.args, ...envPairs(s.config.Env)]);
  const words = ins.json ? ins.json.map((w) => expand(ins, w, env, s.escape)) : expandWords(ins, ins.rest, env, s.escape);
  if (words.length < 2) throw new TsdError(`dockerfile parse error line ${ins.line}: ${ins.cmd} requires at least two arguments, but got ${words.length}`, 1);
  const dest = words.at(-1)!;
  let sources = words.slice(0, -1);
  const from = flagValue(ins, "from");
  let ctx = r.ctx;
  const urls = ins.cmd === "ADD" ? sources.filter((x) => /^https?:\/\//.test(x)) : [];
  const own = new Map<number, { ctx: Context; name: string }>();
  if (urls.length > 0) {
    // Each URL downloaded into a context of its own, beside the build context's sources.
    for (const [i, w] of sources.entries()) if (/^https?:\/\//.test(w)) own.set(i, await urlContext(join(dir, `url-${i}`), w));
  } else if (ins.heredocs.length > 0) {
    ctx = heredocContext(dir, ins.heredocs.map((h) => ({ name: h.name, content: h.expand ? processHeredoc(h.content, env, s.escape) : h.content })));
    sources = sources.map((w) => /^<<-?(\w+)$/.exec(w)?.[1] ?? w);
  } else if (from !== undefined) {
    const fromImage = await fromStageOrImage(r, stage, expand(ins, from, env, s.escape));
    // Images are content-addressed: the same sources of the same image onto the same parent
    // make the same layer, so a cached step is found without copying the sources out.
    const chown = flagValue(ins, "chown");
    const chownFlag = chown === undefined ? undefined : expand(ins, chown, env, s.escape);
    const alias = `#(alias) ${JSON.stringify([ins.cmd, fromImage.id, sources, dest, s.config.WorkingDir ?? "", chownFlag ?? null, flagValue(ins, "chmod") ?? null, s.shell, from])}`;
    const hit = cachedStep(r, image, alias, s);
    if (hit) return hit;
    ({ ctx, sources } = await contextFromImage(r.db, r.root, fromImage, sources, dir));
    const made = await copyFromContext(r, s, image, ins, dir, ctx, sources, dest, env, from);
    rememberStep(r.db, cacheKey(image.id || undefined, alias, s.config), made.id, image.id);
    return made;
  }
  if (ins.cmd === "ADD" && from === undefined && ins.heredocs.length === 0) {
    const made = await addArchives(r, s, image, ins, dir, ctx, sources, dest, env, own);
    if (made) return made;
  }
  return copyFromContext(r, s, image, ins, dir, ctx, sources, dest, env, from, own);
}

/**
 * ADD with local tar archives among its sources (a glob's matches included): each extracted
 * into DEST, the other sources copied, one layer (Docker's; a downloaded archive is not
 * extracted). Undefined when no source is an archive.
 */
async function addArchives(r: Run, s: StageState, image: ImageRecord, ins: Instruction, dir: string, ctx: Context, sources: string[], dest: string, env: Map<string, string>, own: Map<number, { ctx: Context; name: string }>): Promise<ImageRecord | undefined> {
  const split = splitArchives(ctx, sources, own);
  if (split.archives.length === 0) return undefined;
  if (split.archives.length + split.rest.length > 1 && !(dest.endsWith("/") || dest.endsWith("/.") || dest === ".")) throw new TsdError("When using ADD with more than one source file, the destination must be a directory and end with a /", 1);
  const copy = split.rest.length > 0 ? planCopy(r.root, image, dir, copyRequest(s, ins, ctx, split.rest, dest, env, undefined, split.own), s.shell) : undefined;
  const a = await stageArchives(r.root, image, dir, split.archives, joinPath(s.config.WorkingDir || "/", dest), copy, (kind, hash) => `${s.shell.join(" ")} #(nop) ADD ${kind}:${hash} in ${dest} `);
  return cachedOr(r, image, a.createdBy, s, async () => commitLayer(r, image, { dir: await applyArchives(r.db, r.root, image, dir, a), adopt: false }, s, a.createdBy));
}

function copyRequest(s: StageState, ins: Instruction, ctx: Context, sources: string[], dest: string, env: Map<string, string>, from: string | undefined, own?: Map<number, { ctx: Context; name: string }>): CopyRequest {
  const chown = flagValue(ins, "chown");
  const chmod = flagValue(ins, "chmod");
  return { what: ins.cmd as "COPY", sources, dest, workdir: s.config.WorkingDir ?? "/", ctx, ...(chown !== undefined ? { chown: expand(ins, chown, env, s.escape) } : {}), ...(chmod !== undefined ? { chmod } : {}), ...(from !== undefined ? { fromLabel: from } : {}), ...(own && own.size > 0 ? { own } : {}) };
}

async function copyFromContext(r: Run, s: StageState, image: ImageRecord, ins: Instruction, dir: string, ctx: Context, sources: string[], dest: string, env: Map<string, string>, from: string | undefined, own?: Map<number, { ctx: Context; name: string }>): Promise<ImageRecord> {
  const planned = planCopy(r.root, image, dir, copyRequest(s, ins, ctx, sources, dest, env, from, own), s.shell);
  return cachedOr(r, image, planned.createdBy, s, async () => commitLayer(r, image, await copyLayer(r.db, r.root, image, dir, planned.stage()), s, planned.createdBy));
}

/** ADD's sources split: the local tar and gzip'd tar files (host paths; links followed), the rest (context paths, downloads re-indexed). */
function splitArchives(ctx: Context, sources: string[], own: Map<number, { ctx: Context; name: string }>): { archives: string[]; rest: string[]; own: Map<number, { ctx: Context; name: string }> } {
  const archives: string[] = [];
  const rest: string[] = [];
  const restOwn = new Map<number, { ctx: Context; name: string }>();
  for (const [i, src] of sources.entries()) {
    const o = own.get(i);
    if (o) {
      restOwn.set(rest.length, o);
      rest.push(src);
      continue;
    }
    for (const rel of resolveSource(ctx, src, "ADD")) {
      const real = followSource(ctx, rel, "ADD");
      if (ctx.entries.get(real) === "file" && archiveKind(join(ctx.dir, real))) archives.push(join(ctx.dir, real));
      else rest.push(rel === "" ? "." : rel);
    }
  }
  return { archives, rest, own: restOwn };
}

async function fromStageOrImage(r: Run, stage: Stage, ref: string): Promise<ImageRecord> {
  const earlier = stageNamed(r.plan, ref, stage.index);
  if (earlier) return r.done[earlier.index]!;
  const image = findImage(r.db, ref);
  if (!image) throw new TsdError(`invalid from flag value ${ref}: no stage or local image of that name (pull or load it first)`, 1);
  return image;
}

/** The platform a RUN on `image` needs when this host cannot run it (no binfmt_misc handler). */
function foreignArch(image: ImageRecord): string | undefined {
  const arch = parsePlatform(image.config.architecture ?? hostArchitecture()).architecture;
  return canRunArch(arch) ? undefined : imagePlatform(image);
}

function envPairs(env: readonly string[] | null | undefined): [string, string][] {
  return (env ?? []).map((e) => {
    const eq = e.indexOf("=");
    return eq < 0 ? [e, ""] : [e.slice(0, eq), e.slice(eq + 1)];
  });
}

