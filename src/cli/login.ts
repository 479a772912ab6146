import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { UsageError } from "./globals";
import { DEFAULT_DOMAIN } from "../image/reference";
import { dockerConfigPath, storeCredentials } from "../image/registry/auth";
import { loadRegistryConfig } from "../image/registry/config";
import { RegistryClient } from "../image/registry/client";
import { TsdError } from "../errors";

const flags = {
  username: { kind: "string", short: "u", description: "Username", valueHint: "USER" },
  password: { kind: "string", short: "p", description: "Password", valueHint: "PASSWORD" },
  "password-stdin": { kind: "bool", description: "Take the password from stdin" },
} satisfies FlagSpec;

/** `docker login` names a server as host[:port], or a URL of it. */
export function registryHost(arg: string | undefined): string {
  if (!arg) return DEFAULT_DOMAIN;
  const host = arg.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (host === "" || /\s/.test(host)) throw new UsageError(`invalid registry "${arg}": want HOST[:PORT]`);
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DEFAULT_DOMAIN : host;
}

export default defineCommand({
  meta: { name: "login", description: "Log in to a registry (credentials go to ~/.docker/config.json)" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("login", flags, rawArgs);
    if (positionals.length > 1) throw new UsageError(`"tsd login" accepts at most 1 argument: tsd login [OPTIONS] [SERVER]`);
    const host = registryHost(positionals[0]);
    let password = f.password;
    if (f["password-stdin"]) {
      if (password !== undefined) throw new UsageError("--password and --password-stdin are mutually exclusive");
      password = (await Bun.stdin.text()).replace(/\r?\n$/, "");
    }
    if (!f.username || password === undefined || password === "") {
      throw new UsageError("tsd login needs -u USER and a password (-p PASSWORD or --password-stdin); it does not prompt");
    }
    if (f.password !== undefined) process.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    const creds = { username: f.username, password };
    const client = new RegistryClient(host, { config: loadRegistryConfig(), credentials: creds });
    try {
      await client.login();
    } catch (e) {
      throw new TsdError(`login to ${host} failed: ${(e as Error).message.replace(/: run tsd login.*$/, "")}`);
    }
    storeCredentials(host, creds);
    console.log(`Login Succeeded (credentials stored in ${dockerConfigPath()})`);
  },
});
