// `delete` (being written).
import { TsdError } from "../errors";
import type { RuntimeGlobals } from "./globals";

export async function deleteCommand(_g: RuntimeGlobals, _argv: string[]): Promise<number> {
  throw new TsdError("delete: not yet implemented", 1);
}
