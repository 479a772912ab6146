// --help as the Docker CLI prints it: the usage line, the description, Options with value types.
import { expect, test } from "bun:test";
import { dockerHelp } from "../../src/cli/help";
import { commands } from "../../src/cli/commands";

test("run's help starts with Docker's usage line and lists typed options, sorted, in plain text", async () => {
  const text = await dockerHelp(await commands.run!(), ["run"]);
  const lines = text.split("\n");
  expect(lines[0]).toBe("Usage:  tsd run [OPTIONS] IMAGE [COMMAND] [ARG...]");
  expect(lines[2]).toBe("Create and run a new container from an image");
  expect(lines).toContain("Options:");
  expect(text).toMatch(/\n {2}-e, --env list {3,}\S/);
  expect(text).toMatch(/\n {6}--name string {3,}Assign a name to the container/);
  expect(text).toMatch(/\n {6}--rm {3,}Automatically remove/);
  expect(text).not.toMatch(/\x1b\[/);
});

test("a group's help lists its commands", async () => {
  const text = await dockerHelp(await commands.network!(), ["network"]);
  expect(text).toStartWith("Usage:  tsd network COMMAND\n\nManage networks\n\nCommands:\n");
  expect(text).toMatch(/\n {2}ls {10}List networks\n/);
});
