import pkg from "../../package.json";
import { coreVersion, loadCore } from "../native/ffi";

export function versionLine(root: string): string {
  loadCore(root);
  return `tsd version ${pkg.version}, core ${coreVersion()}`;
}
