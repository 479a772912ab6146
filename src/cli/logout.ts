import { defineCommand } from "./command";
import { parseFlags } from "./flags";
import { UsageError } from "./globals";
import { storeCredentials } from "../image/registry/auth";
import { registryHost } from "./login";

export default defineCommand({
  meta: { name: "logout", description: "Log out from a registry" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("logout", {}, rawArgs);
    if (positionals.length > 1) throw new UsageError(`"tsd logout" accepts at most 1 argument: tsd logout [SERVER]`);
    const host = registryHost(positionals[0]);
    const had = storeCredentials(host, undefined);
    console.log(had ? `Removing login credentials for ${host}` : `Not logged in to ${host}`);
  },
});
