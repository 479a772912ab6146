// Whether this host can run another architecture's binaries: natively (386 on amd64, arm on
// arm64 where the CPU has it), or through a registered, enabled binfmt_misc handler (Debian's
// qemu-user-static + binfmt-support register qemu-<arch>).
import { readFileSync } from "node:fs";
import { hostArchitecture } from "../media";

const QEMU: Record<string, string> = { amd64: "x86_64", arm64: "aarch64", arm: "arm", "386": "i386", ppc64le: "ppc64le", s390x: "s390x", riscv64: "riscv64", mips64le: "mips64el" };
const NATIVE: Record<string, string[]> = { amd64: ["386"], arm64: ["arm"] };

export function canRunArch(arch: string, binfmtDir = "/proc/sys/fs/binfmt_misc"): boolean {
  const host = hostArchitecture();
  if (arch === host || (NATIVE[host] ?? []).includes(arch)) return true;
  const name = QEMU[arch];
  if (!name) return false;
  try {
    return readFileSync(`${binfmtDir}/qemu-${name}`, "utf8").split("\n")[0] === "enabled";
  } catch {
    return false;
  }
}
