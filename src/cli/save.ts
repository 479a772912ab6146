import { defineCommand } from "./command";
import { isatty } from "../io";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { findImage } from "../image/store";
import { parseReference, ReferenceError, type Reference } from "../image/reference";
import { writeArchive, type SaveItem } from "../image/save";
import { writeTarOutput } from "../image/output";
import { TsdError } from "../errors";

const flags = {
  output: { kind: "string", short: "o", description: "Write to a file, instead of STDOUT", valueHint: "FILE" },
  format: { kind: "string", description: "docker-archive (default: docker load and OCI tools read it) or oci-archive", valueHint: "FORMAT" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "save", description: "Save one or more images to a tar archive (streamed to STDOUT by default)" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("save", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd save" requires at least 1 argument: tsd save [OPTIONS] IMAGE [IMAGE...]`);
    const format = f.format === undefined || f.format === "docker-archive" || f.format === "docker" ? "docker" : f.format === "oci-archive" || f.format === "oci" ? "oci" : undefined;
    if (!format) throw new UsageError(`unsupported --format "${f.format}": use docker-archive or oci-archive`);
    // isatty, not process.stdout: touching that makes Bun switch stdout to non-blocking.
    if (!f.output && isatty(1)) throw new UsageError("cowardly refusing to save to a terminal: use -o FILE or redirect stdout");
    const { root, db } = context();
    const items: SaveItem[] = positionals.map((name) => {
      const image = findImage(db, name);
      if (!image) throw new TsdError(`no such image: ${name}`);
      let ref: Reference | undefined;
      try {
        const r = parseReference(name);
        // Only a name that is a tag of this image becomes a RepoTag (not an id).
        if (!r.digest && !image.id.startsWith(name.replace(/^sha256:/, ""))) ref = r;
      } catch (e) {
        if (!(e instanceof ReferenceError)) throw e;
      }
      return { image, ...(ref ? { ref } : {}) };
    });
    writeTarOutput(f.output, (tw) => writeArchive(db, root, items, format, tw));
  },
});
