// `--help` as the Docker CLI prints it (cobra): "Usage:  tsd run [OPTIONS] IMAGE [COMMAND] [ARG...]",
// the description, then Options (flag, value type, text) or Commands. Plain text: no colour.
import type { ArgsDef, CommandDef } from "citty";
import { resolve } from "./command";

/** Docker's usage lines, after "tsd <command>". */
const USAGES: Record<string, string> = {
  attach: "[OPTIONS] CONTAINER", commit: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", container: "COMMAND",
  cp: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\ttsd cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH", create: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  exec: "[OPTIONS] CONTAINER COMMAND [ARG...]", export: "[OPTIONS] CONTAINER", history: "[OPTIONS] IMAGE", image: "COMMAND",
  images: "[OPTIONS] [REPOSITORY[:TAG]]", import: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", inspect: "[OPTIONS] NAME|ID [NAME|ID...]",
  kill: "[OPTIONS] CONTAINER [CONTAINER...]", load: "[OPTIONS]", login: "[OPTIONS] [SERVER]", logout: "[SERVER]", logs: "[OPTIONS] CONTAINER",
  network: "COMMAND", port: "CONTAINER [PRIVATE_PORT[/PROTO]]", ps: "[OPTIONS]", pull: "[OPTIONS] NAME[:TAG|@DIGEST]", push: "[OPTIONS] NAME[:TAG]",
  rename: "CONTAINER NEW_NAME", restart: "[OPTIONS] CONTAINER [CONTAINER...]", rm: "[OPTIONS] CONTAINER [CONTAINER...]",
  rmi: "[OPTIONS] IMAGE [IMAGE...]", run: "[OPTIONS] IMAGE [COMMAND] [ARG...]", save: "[OPTIONS] IMAGE [IMAGE...]",
  start: "[OPTIONS] CONTAINER [CONTAINER...]", stats: "[OPTIONS] [CONTAINER...]", stop: "[OPTIONS] CONTAINER [CONTAINER...]", system: "COMMAND",
  tag: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", top: "CONTAINER [ps OPTIONS]", update: "[OPTIONS] CONTAINER [CONTAINER...]", version: "[OPTIONS]",
  volume: "COMMAND", pause: "CONTAINER [CONTAINER...]", unpause: "CONTAINER [CONTAINER...]", events: "[OPTIONS]", wait: "CONTAINER [CONTAINER...]",
  "network connect": "[OPTIONS] NETWORK CONTAINER", "network create": "[OPTIONS] NETWORK", "network disconnect": "[OPTIONS] NETWORK CONTAINER",
  "network inspect": "[OPTIONS] NETWORK [NETWORK...]", "network ls": "[OPTIONS]", "network prune": "[OPTIONS]", "network rm": "NETWORK [NETWORK...]",
  "volume create": "[OPTIONS] [VOLUME]", "volume inspect": "[OPTIONS] VOLUME [VOLUME...]", "volume ls": "[OPTIONS]", "volume prune": "[OPTIONS]",
  "volume rm": "[OPTIONS] VOLUME [VOLUME...]", "image inspect": "[OPTIONS] IMAGE [IMAGE...]", "image prune": "[OPTIONS]", "system df": "[OPTIONS]", "system events": "[OPTIONS]", "system prune": "[OPTIONS]",
};

const REPEATABLE = " (repeatable)";


/** The options block: "  -d, --detach           Run …" with cobra's value types (string, list). */
export function optionLines(args: ArgsDef): string[] {
  const rows = Object.entries(args)
    .filter(([, d]) => d.type !== "positional")
    .map(([name, d]) => {
      const desc = d.description ?? "";
      const list = desc.endsWith(REPEATABLE);
      const alias = "alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias[0] : d.alias) : undefined;
      const type = d.type === "boolean" ? "" : list ? " list" : " string";
      return { flag: `${alias ? `  -${alias}, ` : "      "}--${name}${type}`, desc: list ? desc.slice(0, -REPEATABLE.length) : desc };
    });
  rows.sort((a, b) => (a.flag.slice(6) < b.flag.slice(6) ? -1 : 1));
  const width = Math.max(...rows.map((r) => r.flag.length));
  return rows.map((r) => `${r.flag.padEnd(width)}   ${r.desc}`);
}

/** Docker-style help for `cmd`, reached as `tsd <path…>`. */
export async function dockerHelp(cmd: CommandDef, path: string[]): Promise<string> {
  const meta = (await resolve(cmd.meta)) ?? {};
  const usage = USAGES[path.join(" ")] ?? "[OPTIONS]";
  const out = [`Usage:  tsd ${path.join(" ")} ${usage}`, "", meta.description ?? "", ""];
  const subs = await resolve(cmd.subCommands);
  if (subs && Object.keys(subs).length > 0) {
    const entries = await Promise.all(Object.entries(subs).map(async ([n, c]) => [n, (await resolve((await resolve(c))?.meta))?.description ?? ""] as const));
    entries.sort(([a], [b]) => (a < b ? -1 : 1));
    const width = Math.max(...entries.map(([n]) => n.length));
    out.push("Commands:", ...entries.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`), "", `Run 'tsd ${path.join(" ")} COMMAND --help' for more information on a command.`);
  } else {
    out.push("Options:", ...optionLines((await resolve(cmd.args)) ?? {}));
  }
  return out.join("\n");
}

/** The subcommand `args[0]` names under a group command (network ls), if any. */
export async function subCommand(cmd: CommandDef, args: string[]): Promise<[CommandDef, string] | undefined> {
  const subs = await resolve(cmd.subCommands);
  const name = args.find((a) => !a.startsWith("-"));
  if (!subs || !name || !(name in subs)) return undefined;
  const sub = await resolve(subs[name]);
  return sub ? [sub, name] : undefined;
}
