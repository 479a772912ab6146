import { defineCommand } from "./command";
import { parsePlatform } from "../image/media";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { buildImage, type BuildContext } from "../container/build";
import { readDockerfile } from "../container/build-copy";
import { parseReference, type Reference } from "../image/reference";

const flags = {
  tag: { kind: "list", short: "t", description: "Name and optionally a tag in the 'name:tag' format", valueHint: "NAME[:TAG]" },
  file: { kind: "string", short: "f", description: "Name of the Dockerfile (Default is 'PATH/Dockerfile')", valueHint: "FILE" },
  "build-arg": { kind: "list", description: "Set build-time variables", valueHint: "K=V" },
  target: { kind: "string", description: "Set the target build stage to build", valueHint: "STAGE" },
  "no-cache": { kind: "bool", description: "Do not use cache when building the image" },
  pull: { kind: "bool", description: "Always attempt to pull a newer version of the image" },
  platform: { kind: "string", description: "Set platform if server is multi-platform capable (base images pulled for it; RUN needs the host's arch or binfmt_misc)", valueHint: "PLATFORM" },
  label: { kind: "list", description: "Set metadata for an image", valueHint: "K=V" },
  quiet: { kind: "bool", short: "q", description: "Suppress the build output and print image ID on success" },
  network: { kind: "string", description: "Set the networking mode for the RUN instructions during build (bridge, none, host)", valueHint: "MODE" },
  iidfile: { kind: "string", description: "Write the image ID to the file", valueHint: "FILE" },
  rm: { kind: "bool", description: "Remove intermediate containers after a successful build (always)", default: true },
  "force-rm": { kind: "bool", description: "Always remove intermediate containers (always)" },
} satisfies FlagSpec;

function keyValues(list: string[], what: string, env: Record<string, string | undefined>): [string, string][] {
  return list.map((kv) => {
    const eq = kv.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid ${what} "${kv}": want KEY=VALUE`);
    // Docker: --build-arg KEY alone takes KEY from the environment.
    if (eq < 0) return [kv, env[kv] ?? ""];
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

export default defineCommand({
  meta: { name: "build", description: "Build an image from a Dockerfile" },
  args: { ...cittyArgs(flags), path: { type: "positional", required: false, description: "PATH | -" } },
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("build", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd build" requires exactly 1 argument: tsd build [OPTIONS] PATH | -`);
    if (f.platform !== undefined) parsePlatform(f.platform);
    const network = f.network;
    if (network !== undefined && !["bridge", "none", "host", "default"].includes(network)) throw new UsageError(`tsd build --network ${network}: use bridge, none or host`);
    const tags: Reference[] = f.tag.map((t) => parseReference(t));
    const { context: buildContext, dockerfile } = contextAndDockerfile(positionals[0]!, f.file);
    const { root, db } = context();
    const quiet = f.quiet;
    const id = await buildImage(db, root, {
      context: buildContext,
      dockerfile,
      tags,
      buildArgs: new Map(keyValues(f["build-arg"], "--build-arg", process.env)),
      ...(f.target !== undefined ? { target: f.target } : {}),
      noCache: f["no-cache"],
      pull: f.pull,
      ...(f.platform !== undefined ? { platform: f.platform } : {}),
      quiet,
      ...(network !== undefined && network !== "default" ? { network } : {}),
      labels: keyValues(f.label, "--label", {}),
      out: quiet ? () => {} : (line) => console.log(line),
    });
    if (quiet) console.log(`sha256:${id}`);
    if (f.iidfile) writeFileSync(f.iidfile, `sha256:${id}`);
  },
});

function contextAndDockerfile(path: string, file: string | undefined): { context: BuildContext; dockerfile: string | { name: string } } {
  if (path === "-") {
    const bytes = readFileSync(0);
    // A tar (plain or gzip'd) is the context; anything else the Dockerfile, as docker build - decides.
    if (isArchive(bytes)) return { context: { kind: "tar", bytes }, dockerfile: { name: file ?? "Dockerfile" } };
    return { context: { kind: "none" }, dockerfile: bytes.toString("utf8") };
  }
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TsdError(`unable to prepare context: path "${path}" not found`, 1);
  }
  if (!st.isDirectory()) return { context: { kind: "tar", file: resolve(path) }, dockerfile: { name: file ?? "Dockerfile" } };
  const dir = resolve(path);
  if (file === "-") return { context: { kind: "dir", dir }, dockerfile: readFileSync(0, "utf8") };
  const df = file === undefined ? join(dir, "Dockerfile") : isAbsolute(file) ? file : resolve(file);
  return { context: { kind: "dir", dir }, dockerfile: readDockerfile(df) };
}

function isArchive(b: Buffer): boolean {
  return (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) || (b.length >= 262 && b.subarray(257, 262).toString("latin1") === "ustar");
}
