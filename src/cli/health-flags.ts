// The health check flags of `run` and `create` (Docker's names and help texts); parsed by
// src/container/health.ts.
import type { FlagSpec } from "./flags";

export const healthFlags = {
  "health-cmd": { kind: "string", description: "Command to run to check health", valueHint: "STRING" },
  "health-interval": { kind: "string", description: "Time between running the check (ms|s|m|h) (default 0s)", valueHint: "DURATION" },
  "health-retries": { kind: "string", description: "Consecutive failures needed to report unhealthy", valueHint: "INT" },
  "health-start-period": { kind: "string", description: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)", valueHint: "DURATION" },
  "health-timeout": { kind: "string", description: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", valueHint: "DURATION" },
  "no-healthcheck": { kind: "bool", description: "Disable any container-specified HEALTHCHECK" },
} satisfies FlagSpec;
