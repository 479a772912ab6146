// Small pieces of Docker's output that scripts read: ps's COMMAND and inspect's Config.Env.
import { expect, test } from "bun:test";
import { commandText } from "../../src/cli/ps";
import { configEnv } from "../../src/container/inspect";

test("COMMAND: arguments holding a space in single quotes, as the daemon lists them", () => {
  expect(commandText(["sh", "-c", 'echo "a b"'])).toBe(`sh -c 'echo "a b"'`);
  expect(commandText(["sleep", "300"])).toBe("sleep 300");
  expect(commandText(["/bin/true"])).toBe("/bin/true");
  expect(commandText([])).toBe("");
});

test("Config.Env: the user's variables first, then the image's they leave unset", () => {
  expect(configEnv(["A=1"], ["PATH=/bin", "A=0"])).toEqual(["A=1", "PATH=/bin"]);
  expect(configEnv([], ["PATH=/bin"])).toEqual(["PATH=/bin"]);
  expect(configEnv(["PATH=/x", "B="], ["PATH=/bin", "HOME=/root"])).toEqual(["PATH=/x", "B=", "HOME=/root"]);
});
