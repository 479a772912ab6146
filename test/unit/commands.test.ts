// Docker's management commands: every verb of `docker container` and `docker image` (20.10) is
// here under the same name (pause, unpause and build arrive with their issues: listed apart).
import { expect, test } from "bun:test";
import container from "../../src/cli/container";
import image from "../../src/cli/image";
import { commands } from "../../src/cli/commands";

const later = new Set(["pause", "unpause", "build"]);
const keys = (c: { subCommands?: unknown }) => Object.keys((c.subCommands ?? {}) as Record<string, unknown>);

test("tsd container has every docker container verb", () => {
  const docker = ["attach", "commit", "cp", "create", "diff", "exec", "export", "inspect", "kill", "logs", "ls", "pause", "port", "prune", "rename", "restart", "rm", "run", "start", "stats", "stop", "top", "unpause", "update", "wait"];
  const missing = docker.filter((v) => !keys(container).includes(v) && !later.has(v));
  expect(missing).toEqual([]);
});

test("tsd image has every docker image verb", () => {
  const docker = ["build", "history", "import", "inspect", "load", "ls", "prune", "pull", "push", "rm", "save", "tag"];
  expect(docker.filter((v) => !keys(image).includes(v) && !later.has(v))).toEqual([]);
});

test("the top-level commands a Docker user types first are all here", () => {
  const docker = ["attach", "commit", "cp", "create", "diff", "exec", "export", "history", "images", "import", "info", "inspect", "kill", "load", "login", "logout", "logs", "port", "ps", "pull", "push", "rename", "restart", "rm", "rmi", "run", "save", "start", "stats", "stop", "tag", "top", "update", "version", "wait"];
  expect(docker.filter((v) => !(v in commands))).toEqual([]);
});
