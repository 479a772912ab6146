import { defineCommand } from "./command";
import { context } from "./context";
import { parseFlags } from "./flags";
import { UsageError } from "./globals";
import { findImage, tagImage } from "../image/store";
import { parseReference } from "../image/reference";
import { TsdError } from "../errors";

export default defineCommand({
  meta: { name: "tag", description: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  args: { source: { type: "positional", description: "SOURCE_IMAGE[:TAG]" }, target: { type: "positional", description: "TARGET_IMAGE[:TAG]" } },
  run({ rawArgs }) {
    const { positionals } = parseFlags("tag", {}, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd tag" requires exactly 2 arguments: SOURCE_IMAGE TARGET_IMAGE`);
    const { db } = context();
    const image = findImage(db, positionals[0]!);
    if (!image) throw new TsdError(`no such image: ${positionals[0]}`);
    const target = parseReference(positionals[1]!);
    if (target.digest) throw new UsageError(`refusing to create a tag with a digest reference ("${positionals[1]}"): use NAME[:TAG]`);
    tagImage(db, target, image.id, true);
  },
});
