import { posix } from "node:path";
import { DpuError, SshCommandError } from "../errors";
import { pollUntil } from "../lifecycle";
import type { Logger } from "../log";
import type { SshSession } from "../ssh/types";
import type { LoadedArtifact } from "../workload/artifacts";
import { renderSpecFiles } from "../workload/files";
import type { ConcreteRuntime } from "../workload/input-schemas";
import type { ApplyLease } from "../workload/lock";
import { ctlExec, type RemoteStatus, remoteStatus, type WorkloadRef } from "../workload/remote";
import { type DeployedArtifact, pinnedImage, WORKLOAD_ROOT, type WorkloadSpec } from "../workload/spec";
import { ustar } from "../workload/tar";
import { scrubLog } from "./dpu-workload.outputs";
import type { DpuWorkloadInputs } from "./dpu-workload.schema";

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

/** Where an artifact is staged before the switch: next to its destination (same filesystem, atomic rename). */
export function stagedPath(destination: string, token: string): string {
  const dir = posix.dirname(destination);
  return `${dir === "/" ? "" : dir}/.${posix.basename(destination)}.pulumi-dpu-stage-${token}`;
}

/**
 * Stages one version's artifacts: uploads over SFTP (streamed from disk) each artifact whose sha256 on the DPU
 * differs, next to its destination under a name of this apply. Nothing the workload uses changes yet. Returns,
 * per artifact, whether it was staged.
 */
export async function stageArtifacts(
  session: SshSession,
  artifacts: readonly LoadedArtifact[],
  lease: ApplyLease,
  log: Logger,
): Promise<boolean[]> {
  const staged: boolean[] = [];
  for (const [i, a] of artifacts.entries()) {
    if (lease.remoteShas[i] === a.sha256) {
      log.debug(`artifact ${a.destination} already has sha256 ${a.sha256}; skipped`);
      staged.push(false);
      continue;
    }
    try {
      await session.writeFileAtomic(
        stagedPath(a.destination, lease.token),
        a.data,
        Number.parseInt(a.mode, 8),
      );
    } catch (err) {
      throw new Error(
        `artifacts[${i}].destination ${a.destination}: upload failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    staged.push(true);
  }
  return staged;
}

/**
 * Switches to the new version in one round trip: the spec files (and supervisor) travel as a ustar archive on
 * stdin (the env file, holding secrets, is 0600 and never in argv) with the list of staged artifacts; the DPU
 * verifies every staged file, keeps the running version in `previous/`, renames the staged artifacts into place,
 * replaces the spec under a journal, then starts or stops the workload.
 */
export async function applyVersion(
  session: SshSession,
  spec: WorkloadSpec,
  then: "start" | "stop",
  lease: ApplyLease,
  staged: readonly boolean[],
): Promise<void> {
  const list = spec.artifacts.map((a, i) => `${staged[i] ? 1 : 0} ${a.sha256} ${a.destination}\n`).join("");
  const archive = ustar([...renderSpecFiles(spec), { path: "switch", content: list, mode: 0o600 }]);
  const r = await ctlExec(session, "apply", refOf(spec), [then, lease.token], 120_000, archive);
  if (r.exitCode === 0) return;
  const bad = /^badstage (\d+)$/m.exec(r.stdout);
  if (r.exitCode === 65 && bad) {
    const i = Number(bad[1]);
    throw new DpuError(
      "DPU_WORKLOAD_STAGE",
      `artifacts[${i}].destination ${spec.artifacts[i]?.destination}: the uploaded file does not have the expected sha256 on the DPU (changed during the upload?); nothing was switched`,
    );
  }
  throw new SshCommandError({
    target: session.label,
    command: `workload ${spec.name} apply`,
    exitCode: r.exitCode,
    stderrTail: (r.stderr || r.stdout).slice(-500),
  });
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

/** Builds the spec from checked inputs, the resolved runtime and the artifact digests. */
export function resolveSpec(
  inputs: DpuWorkloadInputs,
  runtime: ConcreteRuntime,
  artifacts: readonly DeployedArtifact[],
  root: string = WORKLOAD_ROOT,
): WorkloadSpec {
  const command = typeof inputs.command === "string" ? [inputs.command] : (inputs.command ?? []);
  const argv = inputs.shell ? ["/bin/sh", "-c", command[0] ?? ""] : [...command];
  return {
    name: inputs.name,
    runtime,
    argv,
    ...(inputs.workingDir !== undefined ? { workingDir: inputs.workingDir } : {}),
    ...(inputs.user !== undefined ? { user: inputs.user } : {}),
    env: { ...inputs.env, ...inputs.secretEnv },
    restart: inputs.restart,
    ...(inputs.cpuLimit !== undefined ? { cpuLimit: inputs.cpuLimit } : {}),
    ...(inputs.memoryLimitMb !== undefined ? { memoryLimitMb: inputs.memoryLimitMb } : {}),
    ports: inputs.ports,
    ...(inputs.image
      ? { image: { ref: pinnedImage(inputs.image), pullPolicy: inputs.image.pullPolicy } }
      : {}),
    ...(inputs.health ? { health: inputs.health } : {}),
    artifacts,
    root,
    ...(inputs.owner !== undefined ? { owner: inputs.owner } : {}),
  };
}
