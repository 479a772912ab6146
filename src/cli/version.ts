import pkg from "../../package.json";
import { coreVersion, loadCore } from "../native/ffi";

export function versionLine(root: string): string {
  loadCore(root);
  return `tsd version ${pkg.version}, core ${coreVersion()}`;
}

/** `tsd version --format`'s data: Docker's {{.Client.Version}} … (there is no server). */
export function versionInfo(root: string): Record<string, unknown> {
  loadCore(root);
  return {
    Client: { Platform: { Name: "tsd" }, Version: pkg.version, ApiVersion: "1.41", CoreVersion: coreVersion(), Os: process.platform, Arch: process.arch === "x64" ? "amd64" : process.arch, Experimental: false },
    Server: null,
  };
}
