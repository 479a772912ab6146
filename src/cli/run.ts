import { defineCommand } from "./command";
import { readFileSync } from "node:fs";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { runOptionsFromFlags } from "../container/options";
import { runContainer } from "../container/run";
import { checkRunOnHost } from "../container/rootless";
import { resourceFlags, runOnlyResourceFlags } from "./resource-flags";
import { ensureImage } from "../image/registry/ensure";
import { healthFlags } from "./health-flags";
import { metaFlags } from "./meta-flags";
import { kernelFlags } from "./kernel-flags";

export const runFlags = {
  rm: { kind: "bool", description: "Automatically remove the container when it exits" },
  detach: { kind: "bool", short: "d", description: "Run container in background and print container ID" },
  "log-opt": { kind: "list", description: "Log driver options (max-size, max-file)", valueHint: "OPT=VALUE" },
  restart: { kind: "string", description: 'Restart policy to apply when a container exits (default "no")', valueHint: "POLICY" },
  interactive: { kind: "bool", short: "i", description: "Keep STDIN open and forward it" },
  tty: { kind: "bool", short: "t", description: "Allocate a pseudo-TTY" },
  name: { kind: "string", description: "Assign a name to the container", valueHint: "NAME" },
  env: { kind: "list", short: "e", description: "Set environment variables", valueHint: "KEY=VALUE" },
  "env-file": { kind: "list", description: "Read in a file of environment variables", valueHint: "FILE" },
  workdir: { kind: "string", short: "w", description: "Working directory inside the container", valueHint: "DIR" },
  user: { kind: "string", short: "u", description: "Username or UID (format: <name|uid>[:<group|gid>])", valueHint: "USER" },
  hostname: { kind: "string", short: "h", description: "Container host name", valueHint: "NAME" },
  entrypoint: { kind: "string", description: "Overwrite the default ENTRYPOINT of the image", valueHint: "CMD" },
  volume: { kind: "list", short: "v", description: "Bind mount a volume", valueHint: "HOST:CTR[:ro]" },
  tmpfs: { kind: "list", description: "Mount a tmpfs directory", valueHint: "PATH[:OPTS]" },
  "read-only": { kind: "bool", description: "Mount the container's root filesystem as read only" },
  privileged: { kind: "bool", description: "Give extended privileges to this container" },
  "cap-add": { kind: "list", description: "Add Linux capabilities", valueHint: "CAP" },
  "cap-drop": { kind: "list", description: "Drop Linux capabilities", valueHint: "CAP" },
  ...resourceFlags,
  ...runOnlyResourceFlags,
  "cgroup-parent": { kind: "string", description: "Optional parent cgroup for the container", valueHint: "PATH" },
  "security-opt": { kind: "list", description: "Security options (seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false])", valueHint: "OPT" },
  pull: { kind: "string", description: 'Pull image before running ("always", "missing", "never")', valueHint: "POLICY" },
  network: { kind: "string", description: "Connect a container to a network (bridge, none, host, container:NAME, or a network name)", valueHint: "NETWORK" },
  "network-alias": { kind: "list", description: "Add a network-scoped alias for the container", valueHint: "ALIAS" },
  ip: { kind: "string", description: "IPv4 address (user-defined networks)", valueHint: "IP" },
  "mac-address": { kind: "string", description: "Container MAC address (e.g., 92:d0:c6:0a:29:33)", valueHint: "MAC" },
  dns: { kind: "list", description: "Set custom DNS servers", valueHint: "IP" },
  "dns-search": { kind: "list", description: "Set custom DNS search domains", valueHint: "DOMAIN" },
  "dns-option": { kind: "list", description: "Set DNS options", valueHint: "OPTION" },
  "add-host": { kind: "list", description: "Add a custom host-to-IP mapping (host:ip)", valueHint: "HOST:IP" },
  publish: { kind: "list", short: "p", description: "Publish a container's port(s) to the host", valueHint: "[IP:]HOSTPORT:PORT[/PROTO]" },
  "publish-all": { kind: "bool", short: "P", description: "Publish all exposed ports to random ports" },
  ...healthFlags,
  ...metaFlags, // metadata/CLI flags (cli/meta-flags.ts)
  ...kernelFlags,
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "run", description: "Create and run a new container from an image" },
  args: cittyArgs(runFlags),
  async run({ rawArgs }) {
    const { flags, positionals } = parseFlags("run", runFlags, rawArgs, false);
    const opts = runOptionsFromFlags(flags, positionals, process.env, (p) => readFileSync(p, "utf8"));
    const { root, db } = context();
    checkRunOnHost(db, opts, flags.pull);
    await ensureImage(db, root, opts.image, { policy: flags.pull, ...(opts.platform ? { platform: opts.platform } : {}) });
    process.exitCode = await runContainer(db, root, opts);
  },
});
