import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { commitContainer } from "../container/commit";
import { parseReference } from "../image/reference";

const flags = {
  change: { kind: "list", short: "c", description: "Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL)", valueHint: "INSTR" },
  author: { kind: "string", short: "a", description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', valueHint: "AUTHOR" },
  message: { kind: "string", short: "m", description: "Commit message", valueHint: "TEXT" },
  pause: { kind: "bool", short: "p", description: "Pause the container during commit (--pause=false to opt out)", default: true },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "commit", description: "Create a new image from a container's changes" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("commit", flags, rawArgs);
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`"tsd commit" requires 1 or 2 arguments: tsd commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`);
    const ref = positionals[1] ? parseReference(positionals[1]) : undefined;
    const { root, db } = context();
    const id = await commitContainer(db, root, positionals[0]!, {
      changes: f.change,
      ...(ref ? { ref } : {}),
      ...(f.author ? { author: f.author } : {}),
      ...(f.message ? { message: f.message } : {}),
      pause: f.pause,
    });
    console.log(`sha256:${id}`);
  },
});
