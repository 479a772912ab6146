// `state ID`: the OCI state of a container, as runc prints it (indented JSON).
import { exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { ociState, readRecord } from "./state-dir";

export async function stateCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, {});
  exactArgs("state", p.args, 1, "<container-id>");
  const rec = readRecord(g.root, p.args[0]!);
  process.stdout.write(`${JSON.stringify(ociState(g.root, rec), null, "  ")}\n`);
  return 0;
}
