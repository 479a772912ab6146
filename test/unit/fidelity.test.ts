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

test("ps publish=/expose= values as moby's portOp reads them", async () => {
  const { portFilter } = await import("../../src/cli/ps");
  expect(portFilter("publish", "80")).toEqual(["80/tcp"]);
  expect(portFilter("expose", "53/UDP")).toEqual(["53/udp"]);
  expect(portFilter("publish", "8000-8002/tcp")).toEqual(["8000/tcp", "8001/tcp", "8002/tcp"]);
  expect(() => portFilter("publish", "127.0.0.1:80")).toThrow("filter for 'publish' should not contain ':': 127.0.0.1:80");
  expect(() => portFilter("expose", "90-80")).toThrow("invalid port range");
  expect(() => portFilter("expose", "x")).toThrow("invalid port range");
});
