import { expect, test } from "bun:test";
import { backingFilesystem, infoText, machine, osRelease, type Info } from "../../src/system/info";
import { idmappedLayers } from "../../src/container/userns";

test("os-release: PRETTY_NAME and VERSION_ID, quoted or not", () => {
  expect(osRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n')).toEqual({ name: "Debian GNU/Linux 12 (bookworm)", version: "12" });
  expect(osRelease("PRETTY_NAME=Alpine\nVERSION_ID=3.19.1\n")).toEqual({ name: "Alpine", version: "3.19.1" });
  expect(osRelease("")).toEqual({ name: "Linux", version: "" });
});

test("architecture and backing filesystem names as Docker shows them", () => {
  expect(machine("x64")).toBe("x86_64");
  expect(machine("arm64")).toBe("aarch64");
  expect(machine("mips")).toBe("mips");
  expect(backingFilesystem(0xef53)).toBe("extfs");
  expect(backingFilesystem(0x01021994)).toBe("tmpfs");
  expect(backingFilesystem(0x1234)).toBe("0x1234");
});

test("the text layout carries the lines scripts grep", () => {
  const i = { ServerVersion: "0.1.0", Containers: 3, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 2, Images: 4, Driver: "overlay2", DriverStatus: [["Backing Filesystem", "extfs"]], LoggingDriver: "json-file", CgroupDriver: "cgroupfs", CgroupVersion: "2", NetworkBackend: "bridge", DefaultBridge: "tsd0 10.89.0.0/16", Rootless: false, SecurityOptions: ["name=seccomp,profile=default", "name=cgroupns"], KernelVersion: "6.1", OperatingSystem: "Debian", OSType: "linux", Architecture: "x86_64", NCPU: 2, MemTotal: 2 * 1024 ** 3, Name: "h", ID: "x", DockerRootDir: "/r", Warnings: [], UserNamespaces: { IdmappedMounts: true, AutoPool: "uids 1-2, gids 1-2 (built-in)", AutoRanges: 3 } } as unknown as Info;
  const text = infoText(i);
  expect(text).toContain("\n Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n Images: 4\n");
  expect(text).toContain("\n Cgroup Version: 2\n");
  expect(text).toContain("\n Security Options:\n  seccomp\n   Profile: default\n  cgroupns\n");
  expect(text).toContain("\n Total Memory: 2.00GiB\n");
  expect(text).toContain("\n Docker Root Dir: /r\n");
  expect(text).toContain("\n  Idmapped Mounts: supported\n  Auto Pool: uids 1-2, gids 1-2 (built-in)\n  Auto Ranges In Use: 3\n");
});

test("idmapped overlay layers from detached mounts: Linux 6.15 on", () => {
  expect(idmappedLayers("6.18.44-fc-v1300")).toBe(true);
  expect(idmappedLayers("6.15.0")).toBe(true);
  expect(idmappedLayers("6.14.9")).toBe(false);
  expect(idmappedLayers("5.19.0")).toBe(false);
  expect(idmappedLayers("7.0")).toBe(true);
});
