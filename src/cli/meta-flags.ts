// run/create's metadata and CLI flags (issue 14 item 4); parsed by container/meta-options.ts.
import type { FlagSpec } from "./flags";

export const metaFlags = {
  label: { kind: "list", short: "l", description: "Set meta data on a container", valueHint: "KEY=VALUE" },
  "label-file": { kind: "list", description: "Read in a line delimited file of labels", valueHint: "FILE" },
  cidfile: { kind: "string", description: "Write the container ID to the file", valueHint: "FILE" },
  "stop-signal": { kind: "string", description: "Signal to stop the container (default: the image's STOPSIGNAL, else SIGTERM)", valueHint: "SIGNAL" },
  "stop-timeout": { kind: "string", description: "Timeout (in seconds) to stop a container (default 10)", valueHint: "SECONDS" },
  "volumes-from": { kind: "list", description: "Mount volumes from the specified container(s)", valueHint: "CONTAINER[:ro|rw]" },
  expose: { kind: "list", description: "Expose a port or a range of ports", valueHint: "PORT[-PORT][/PROTO]" },
  platform: { kind: "string", description: "Set platform if server is multi-platform capable", valueHint: "OS/ARCH" },
  "log-driver": { kind: "string", description: "Logging driver for the container (json-file, local, none)", valueHint: "DRIVER" },
  attach: { kind: "list", short: "a", description: "Attach to STDIN, STDOUT or STDERR", valueHint: "STREAM" },
  "sig-proxy": { kind: "bool", default: true, description: "Proxy received signals to the process (--sig-proxy=false: do not)" },
  "detach-keys": { kind: "string", description: "Override the key sequence for detaching a container", valueHint: "KEYS" },
  mount: { kind: "list", description: "Attach a filesystem mount to the container", valueHint: "type=bind|volume|tmpfs,src=…,dst=…" },
} satisfies FlagSpec;
