import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { execInContainer } from "../container/exec";
import { expandEnv, parseEnvFile } from "../container/options";
import { readFileSync } from "node:fs";
import { TsdError } from "../errors";

const flags = {
  interactive: { kind: "bool", short: "i", description: "Keep STDIN open even if not attached" },
  tty: { kind: "bool", short: "t", description: "Allocate a pseudo-TTY" },
  detach: { kind: "bool", short: "d", description: "Detached mode: run command in the background" },
  env: { kind: "list", short: "e", description: "Set environment variables", valueHint: "KEY=VALUE" },
  "env-file": { kind: "list", description: "Read in a file of environment variables", valueHint: "FILE" },
  workdir: { kind: "string", short: "w", description: "Working directory inside the container", valueHint: "DIR" },
  user: { kind: "string", short: "u", description: "Username or UID (format: <name|uid>[:<group|gid>])", valueHint: "USER" },
  privileged: { kind: "bool", description: "Give extended privileges to the command" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "exec", description: "Execute a command in a running container" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("exec", flags, rawArgs, false);
    const [container, ...command] = positionals;
    if (!container || command.length === 0) throw new UsageError(`"tsd exec" requires at least 2 arguments: tsd exec [OPTIONS] CONTAINER COMMAND [ARG...]`);
    if (f.workdir !== undefined && !f.workdir.startsWith("/")) throw new UsageError(`the working directory "${f.workdir}" is invalid: it needs to be an absolute path`);
    const fileEnv = f["env-file"].flatMap((p) => {
      let text: string;
      try {
        text = readFileSync(p, "utf8");
      } catch (e) {
        throw new TsdError(`cannot read env file "${p}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      return parseEnvFile(p, text, process.env);
    });
    const env = [...fileEnv, ...f.env.map((e) => expandEnv(e, process.env)).filter((e): e is string => e !== undefined)];
    const { root, db } = context();
    process.exitCode = await execInContainer(db, root, container, {
      interactive: f.interactive,
      tty: f.tty,
      detach: f.detach,
      env,
      ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
      ...(f.user !== undefined ? { user: f.user } : {}),
      privileged: f.privileged,
      command,
    });
  },
});
