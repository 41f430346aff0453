import { DpuError } from "../errors";
import { pollUntil } from "../lifecycle";
import type { Logger } from "../log";
import type { SshSession } from "../ssh/types";
import type { LoadedArtifact } from "../workload/artifacts";
import { renderSpecFiles } from "../workload/files";
import { ctl, type RemoteStatus, remoteStatus, type WorkloadRef } from "../workload/remote";
import type { WorkloadSpec } from "../workload/spec";
import { ustar } from "../workload/tar";
import { scrubLog } from "./dpu-workload.outputs";

/** Lines of log fetched on failure. */
export const FAILURE_LOG_LINES = 50;

/** The workload did not become healthy. Carries the (scrubbed) log tail. */
export class WorkloadUnhealthyError extends DpuError {
  readonly logTail: string | null;
  constructor(message: string, logTail: string | null) {
    super("DPU_WORKLOAD_UNHEALTHY", message);
    this.name = "WorkloadUnhealthyError";
    this.logTail = logTail;
  }
}

/** The control-script reference of a spec. */
export function refOf(spec: WorkloadSpec): WorkloadRef {
  return { root: spec.root, name: spec.name, runtime: spec.runtime };
}

/**
 * Uploads one version's artifacts: keeps the running version in `previous/` (prepare), then uploads over SFTP
 * (atomic) the artifacts whose remote sha256 differs. Returns how many artifacts were uploaded.
 */
export async function uploadVersion(
  session: SshSession,
  spec: WorkloadSpec,
  artifacts: readonly LoadedArtifact[],
  log: Logger,
): Promise<number> {
  const prep = await ctl(
    session,
    "prepare",
    refOf(spec),
    artifacts.map((a) => a.destination),
  );
  const remote = prep.stdout.split("\n");
  let uploaded = 0;
  for (const [i, a] of artifacts.entries()) {
    if (remote[i]?.trim() === a.sha256) {
      log.debug(`artifact ${a.destination} already has sha256 ${a.sha256}; skipped`);
      continue;
    }
    await session.writeFileAtomic(a.destination, a.data, Number.parseInt(a.mode, 8));
    uploaded++;
  }
  return uploaded;
}

/**
 * Replaces the workload's spec files (and supervisor) in one round trip, as a ustar archive on stdin (the env
 * file, holding secrets, is 0600 and never in argv), then starts or stops the workload.
 */
export async function applyVersion(
  session: SshSession,
  spec: WorkloadSpec,
  then: "start" | "stop",
): Promise<void> {
  const archive = ustar(renderSpecFiles(spec));
  await ctl(session, "apply", refOf(spec), [then], 120_000, archive);
}

/** Waits until the workload is healthy per its health check (or, without one, still running after a moment). */
export async function waitHealthy(
  session: SshSession,
  spec: WorkloadSpec,
  log: Logger,
): Promise<RemoteStatus> {
  const ref = refOf(spec);
  const h = spec.health;
  const started = Date.now();
  if (!h) {
    let seen = 0;
    return pollUntil<RemoteStatus>(
      async () => {
        const st = await remoteStatus(session, ref, { health: false, logLines: 0 });
        if (st.status !== "running") {
          throw new WorkloadUnhealthyError(
            `workload ${spec.name} is ${st.status ?? "absent"} after start`,
            null,
          );
        }
        seen++;
        return { done: seen >= 2, value: st, status: "running" };
      },
      {
        what: `workload ${spec.name} to keep running`,
        timeoutMs: 10_000,
        intervalMs: 700,
        onProgress: log.info,
      },
    );
  }
  let failures = 0;
  const timeoutMs = h.startPeriodMs + (h.retries + 2) * (h.intervalMs + h.timeoutMs) + 10_000;
  return pollUntil<RemoteStatus>(
    async () => {
      const st = await remoteStatus(session, ref, {
        health: true,
        logLines: 0,
        timeoutMs: h.timeoutMs + 30_000,
      });
      if (st.health === "ok") return { done: true, value: st, status: "healthy" };
      if (st.health?.startsWith("error:")) {
        throw new WorkloadUnhealthyError(
          `health check of ${spec.name} cannot run: ${st.health.slice(6)}`,
          null,
        );
      }
      const inGrace = Date.now() - started < h.startPeriodMs;
      if (!inGrace) failures++;
      if (failures >= h.retries) {
        throw new WorkloadUnhealthyError(
          `workload ${spec.name} failed its health check ${failures} times (status ${st.status ?? "absent"})`,
          null,
        );
      }
      return {
        done: false,
        status: `${st.status ?? "absent"}, health ${st.health ?? "?"}${inGrace ? " (start period)" : ` ${failures}/${h.retries}`}`,
      };
    },
    {
      what: `workload ${spec.name} to be healthy`,
      timeoutMs,
      intervalMs: h.intervalMs,
      onProgress: log.info,
    },
  );
}

/** The scrubbed log tail of a workload (one round trip). */
export async function fetchLogTail(session: SshSession, spec: WorkloadSpec): Promise<string | null> {
  const st = await remoteStatus(session, refOf(spec), { health: false, logLines: FAILURE_LOG_LINES });
  return scrubLog(st.logTail);
}
