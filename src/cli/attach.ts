import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { attachContainer } from "../container/attach";

const flags = {
  "detach-keys": { kind: "string", description: 'Override the key sequence for detaching a container (default "ctrl-p,ctrl-q")', valueHint: "KEYS" },
  "no-stdin": { kind: "bool", description: "Do not attach STDIN" },
  "sig-proxy": { kind: "string", description: "Proxy all received signals to the process (default true)", valueHint: "BOOL" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "attach", description: "Attach local standard input, output, and error streams to a running container" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("attach", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd attach" requires exactly 1 argument: CONTAINER`);
    if (f["sig-proxy"] !== undefined && f["sig-proxy"] !== "true" && f["sig-proxy"] !== "false") throw new UsageError(`invalid --sig-proxy "${f["sig-proxy"]}": true or false`);
    const { root, db } = context();
    process.exitCode = await attachContainer(db, root, positionals[0]!, {
      noStdin: f["no-stdin"],
      detachKeys: f["detach-keys"] ?? "ctrl-p,ctrl-q",
      sigProxy: f["sig-proxy"] !== "false",
    });
    // stdin may hold the event loop open after a detach.
    process.exit(process.exitCode);
  },
});
