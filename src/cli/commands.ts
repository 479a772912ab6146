// The command table: one file per command, loaded on demand so `tsd --version` stays fast.
import type { CommandDef } from "citty";

type Lazy = () => Promise<CommandDef<any>>;
export const commands: Record<string, Lazy> = {
  version: () => import("./version-cmd").then((m) => m.default),
  load: () => import("./load").then((m) => m.default),
  images: () => import("./images").then((m) => m.default),
  tag: () => import("./tag").then((m) => m.default),
  run: () => import("./run").then((m) => m.default),
  rm: () => import("./rm").then((m) => m.default),
  ps: () => import("./ps").then((m) => m.default),
  container: () => import("./container").then((m) => m.default),
  pull: () => import("./pull").then((m) => m.default),
  login: () => import("./login").then((m) => m.default),
  logout: () => import("./logout").then((m) => m.default),
  stats: () => import("./stats").then((m) => m.default),
  update: () => import("./update").then((m) => m.default),
  push: () => import("./push").then((m) => m.default),
  rmi: () => import("./rmi").then((m) => m.default),
  image: () => import("./image").then((m) => m.default),
  save: () => import("./save").then((m) => m.default),
  commit: () => import("./commit").then((m) => m.default),
  export: () => import("./export").then((m) => m.default),
  import: () => import("./import").then((m) => m.default),
  logs: () => import("./logs").then((m) => m.default),
  stop: () => import("./stop").then((m) => m.default),
  kill: () => import("./kill").then((m) => m.default),
  wait: () => import("./wait").then((m) => m.default),
  rename: () => import("./rename").then((m) => m.default),
  network: () => import("./network").then((m) => m.default),
  port: () => import("./port").then((m) => m.default),
  exec: () => import("./exec").then((m) => m.default),
};
