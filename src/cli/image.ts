// `tsd image SUBCOMMAND`: Docker's management-command spelling of the image commands.
import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { reconcile } from "../container/resolve";
import { globals, UsageError } from "./globals";
import { unpack, useCoreRoot } from "../native/ffi";
import { rootlessMode } from "../store/rootless";
import { findImage } from "../image/store";
import { imageInspect } from "../image/inspect";
import { drainStdin } from "../image/unpack-child";
import { printInspect } from "../format/inspect";
import { pruneImages } from "../image/remove";
import { humanSize } from "../format";
import { TsdError } from "../errors";

const inspectFlags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go template ({{.Id}}, {{json .Config}})", valueHint: "TEMPLATE" },
} satisfies FlagSpec;

const inspect = defineCommand({
  meta: { name: "inspect", description: "Display detailed information on one or more images" },
  args: cittyArgs(inspectFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("image inspect", inspectFlags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd image inspect" requires at least 1 argument: tsd image inspect [OPTIONS] IMAGE [IMAGE...]`);
    const { db } = context();
    const out: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const name of positionals) {
      const image = findImage(db, name);
      if (image) out.push(imageInspect(db, image));
      else missing.push(name);
    }
    const errors = printInspect(f.format, out);
    if (missing.length > 0) errors.push(`no such image: ${missing.join(", ")}`);
    if (errors.length > 0) throw new TsdError(errors.join("\n"), 1);
  },
});

const pruneFlags = {
  all: { kind: "bool", short: "a", description: "Remove all images not used by a container, not just dangling ones" },
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation (tsd never prompts)" },
} satisfies FlagSpec;

const prune = defineCommand({
  meta: { name: "prune", description: "Remove unused images" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("image prune", pruneFlags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd image prune" accepts no arguments`);
    const { root, db } = context();
    reconcile(db, root); // the rows current first: image/remove.ts reads them
    const r = pruneImages(db, root, f.all);
    if (r.deleted.length > 0) {
      console.log("Deleted Images:");
      for (const u of r.untagged) console.log(`untagged: ${u}`);
      for (const d of r.deleted) console.log(`deleted: ${d}`);
      console.log("");
    }
    console.log(`Total reclaimed space: ${humanSize(r.reclaimed)}`);
  },
});


// Run by `tsd pull`, `load` and `import` for each layer (src/image/unpack-child.ts): stdin is
// the layer stream, plain tar (--plain: the parent inflated it), DIR an empty staging dir;
// prints {"size", "diffId"}. The parent checks and commits it. A refused stream is read to its
// end before the child exits (drainStdin), so the parent never writes into a closed pipe.
// With --archive (src/image/load.ts): an image archive, from --from FILE or stdin, the CLI
// staying free to act on a signal meanwhile.
const unpackFlags = {
  archive: { kind: "bool", description: "An image archive (tsd load), not a layer" },
  from: { kind: "string", description: "Read this file instead of stdin", valueHint: "FILE" },
  plain: { kind: "bool", description: "The stream is plain tar (the parent inflated it): no gzip or zstd detection" },
} satisfies FlagSpec;
const unpackCmd = defineCommand({
  meta: { name: "unpack", description: "Unpack a layer stream from stdin into DIR (used by pull)", hidden: true },
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("image unpack", unpackFlags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd image unpack" requires exactly 1 argument: DIR`);
    const { root } = globals();
    useCoreRoot(root);
    const archive = Boolean(f.archive);
    const src = f.from ?? "-";
    try {
      // Rootless with a single id: owners it cannot map stay the user's (as image/store.ts's unpack).
      console.log(JSON.stringify(unpack(src, positionals[0]!, { layer: !archive, archive, plain: Boolean(f.plain), ignoreChown: rootlessMode()?.singleId === true })));
    } catch (e) {
      // A layer a tsd parent feeds (pull, load, import): it hears the refusal when it ends the stream.
      if (f.plain && src === "-") drainStdin();
      throw e;
    }
  },
});

export default defineCommand({
  meta: { name: "image", description: "Manage images" },
  subCommands: {
    inspect,
    unpack: unpackCmd,
    prune,
    ls: () => import("./images").then((m) => m.default),
    list: () => import("./images").then((m) => m.default),
    rm: () => import("./rmi").then((m) => m.default),
    tag: () => import("./tag").then((m) => m.default),
    pull: () => import("./pull").then((m) => m.default),
    load: () => import("./load").then((m) => m.default),
    push: () => import("./push").then((m) => m.default),
    save: () => import("./save").then((m) => m.default),
    import: () => import("./import").then((m) => m.default),
    history: () => import("./history").then((m) => m.default),
    build: () => import("./build").then((m) => m.default),
    remove: () => import("./rmi").then((m) => m.default),
  },
});
