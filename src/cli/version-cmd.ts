import { defineCommand } from "citty";
import { globals } from "./globals";
import { versionLine } from "./version";

export default defineCommand({
  meta: { name: "version", description: "Show the tsd and core versions" },
  run() {
    console.log(versionLine(globals().root));
  },
});
