// The command table: one file per command, loaded on demand so `tsd --version` stays fast.
import type { CommandDef } from "citty";

type Lazy = () => Promise<CommandDef<any>>;
export const commands: Record<string, Lazy> = {
  version: () => import("./version-cmd").then((m) => m.default),
};
