// Rewrites the TS side's fixtures after a deliberate change of a protocol: `bun test/contract/generate.ts`.
// Commit them with the change: zig/contract.zig then checks the Zig side still reads them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ociState, type RuntimeRecord } from "../../src/runtime/state-dir";
import { readFileSync } from "node:fs";
import { contractCreateArgv, contractHookState, contractMonitorArgv, contractResolverArgv, contractSpec } from "./cases";

const dir = join(import.meta.dir, "fixtures");
writeFileSync(join(dir, "spec.json"), JSON.stringify(contractSpec(), null, 2) + "\n");
writeFileSync(join(dir, "monitor-argv.json"), JSON.stringify(contractMonitorArgv(), null, 2) + "\n");
writeFileSync(join(dir, "resolver-argv.json"), JSON.stringify(contractResolverArgv(), null, 2) + "\n");
writeFileSync(join(dir, "create-argv.json"), JSON.stringify(contractCreateArgv(), null, 2) + "\n");
writeFileSync(join(dir, "hook-state.txt"), contractHookState());
// The runtime's `state` output for a stopped record (the front prints the same: zig/front/state.zig).
const rec = JSON.parse(readFileSync(join(dir, "runtime-state.json"), "utf8")) as RuntimeRecord;
writeFileSync(join(dir, "runtime-state.out"), `${JSON.stringify(ociState("/nonexistent-root", rec), null, "  ")}\n`);
console.log(`wrote ${dir}/spec.json, monitor-argv.json, resolver-argv.json, create-argv.json, hook-state.txt and runtime-state.out`);
