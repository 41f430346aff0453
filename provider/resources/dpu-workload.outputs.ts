import { secretPaths } from "../lifecycle/field-meta";
import { redact } from "../log";
import { artifactDigestOf, type RemoteStatus } from "../workload/remote";
import type { ConcreteRuntime, DpuWorkloadInputs } from "./dpu-workload.schema";
import { DpuWorkloadObservedSchema } from "./observed-outputs";

/** What DpuWorkload observed on the DPU. */
export interface DpuWorkloadObserved {
  /** The runtime in use (`auto` resolved). */
  readonly resolvedRuntime: ConcreteRuntime;
  /** `running`, `failed` or `stopped`. */
  readonly status: "running" | "failed" | "stopped";
  /** Main pid on the DPU (process: the command; systemd: MainPID; podman: the container's init pid). */
  readonly pid: number | null;
  /** podman container id. */
  readonly containerId: string | null;
  /** ISO-8601 start time of the current run. */
  readonly startedAt: string | null;
  /** Restarts since the last deployment. */
  readonly restartCount: number;
  /** sha256 of each artifact on the DPU, by destination (`missing` when absent). */
  readonly artifactDigests: Record<string, string>;
  /** Digest of the image the container runs (podman). */
  readonly imageDigest: string | null;
  /** Result of the last health probe: `ok`, `fail`, `none`, `skipped` or `error:<why>`. */
  readonly lastHealth: string;
  /**
   * When not running: the last log lines of the current version, secrets scrubbed (bounded). A secret output:
   * see {@link DPU_WORKLOAD_SECRET_OUTPUTS}. Always `null` while the workload runs, by design: a running
   * workload's output changes between any two reads, so recording it would change the state (and show a diff) on
   * every refresh.
   */
  readonly logTail: string | null;
}

/**
 * Observed outputs the SDK always marks secret (`additionalSecretOutputs`), derived from the `secret` metadata
 * of {@link DpuWorkloadObservedSchema}.
 *
 * `logTail` is the workload's own output. Redaction replaces the secret values the provider knows in this run
 * (the declared `secretEnv`, the connection credentials), but a workload can print what the provider cannot
 * know: a secret read from an artifact, a value derived from a secret (encoded, hashed, a prefix of it), a
 * token it fetched itself, or (before the log was kept per version) a value rotated away since. So the tail is
 * scrubbed and bounded as before, and the state also encrypts it, as Terraform providers mark such attributes
 * sensitive. `pulumi stack output --show-secrets` and the error message of a failed deployment still show it.
 *
 * The other half of the fix is that the tail only ever holds the current version's output: the process
 * supervisor starts a fresh log when the spec changes (see `SUPERVISOR_SH`), the control script reads the
 * journal of the unit's current invocation only, and a podman container is recreated for each version.
 * One-way fingerprints of earlier secret values were considered instead: matching them in free text needs each
 * secret's boundaries (every substring would have to be hashed), and a fingerprint of a short secret kept on the
 * DPU can be brute-forced. Removing the old output is exact and keeps nothing about old secrets.
 */
export const DPU_WORKLOAD_SECRET_OUTPUTS: readonly string[] = secretPaths(DpuWorkloadObservedSchema);

/** DpuWorkload outputs: the checked inputs plus what was observed. */
export interface DpuWorkloadOutputs extends DpuWorkloadInputs, DpuWorkloadObserved {}

/** Largest log tail kept in outputs and error messages. */
export const LOG_TAIL_MAX = 4096;

/** Scrubs secrets from a log tail and bounds it. */
export function scrubLog(text: string | undefined): string | null {
  if (!text) return null;
  const clean = redact(text);
  return clean.length > LOG_TAIL_MAX ? clean.slice(clean.length - LOG_TAIL_MAX) : clean;
}

/** Builds the observed fields from a status document. */
export function observedFrom(
  runtime: ConcreteRuntime,
  inputs: Pick<DpuWorkloadInputs, "artifacts">,
  st: RemoteStatus,
): DpuWorkloadObserved {
  const status = st.status ?? "failed";
  const digests: Record<string, string> = {};
  inputs.artifacts.forEach((a, i) => {
    const d = artifactDigestOf(st, a.destination, i);
    digests[a.destination] = d === "-" ? "missing" : d;
  });
  return {
    resolvedRuntime: runtime,
    status,
    pid: st.pid ?? null,
    containerId: st.containerId ? st.containerId : null,
    startedAt: typeof st.startedAt === "number" ? new Date(st.startedAt * 1000).toISOString() : null,
    restartCount: st.restarts ?? 0,
    artifactDigests: digests,
    imageDigest: st.imageDigest ? st.imageDigest : null,
    lastHealth: st.health ?? "skipped",
    logTail: status === "running" ? null : scrubLog(st.logTail),
  };
}
