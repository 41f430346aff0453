import type * as pulumi from "@pulumi/pulumi";
import { configureFromPulumi } from "../config";
import { checkInputs, diffInputs } from "../lifecycle";
import { SHA256_HEX } from "../lifecycle/digest-pattern";
import { registerSchemaSecrets } from "../lifecycle/field-meta";
import { partialError } from "../lifecycle/partial-error";
import { engineSafe } from "../lifecycle/wire-safe";
import { type Logger, logger, redact, resourceScope } from "../log";
import { sshPool } from "../ssh";
import { toSshTarget } from "../ssh/connection-schema";
import type { SshConnector, SshSession } from "../ssh/types";
import { disposeArtifacts, type LoadedArtifact, loadArtifacts } from "../workload/artifacts";
import { type ApplyLease, beginApply, WorkloadOwnedError } from "../workload/lock";
import {
  artifactDigestOf,
  ctl,
  ctlExec,
  detectRuntime,
  type RemoteStatus,
  remoteStatus,
} from "../workload/remote";
import { WORKLOAD_ROOT, type WorkloadSpec } from "../workload/spec";
import {
  applyVersion,
  fetchLogTail,
  refOf,
  resolveSpec,
  stageArtifacts,
  WorkloadUnhealthyError,
  waitHealthy,
} from "./dpu-workload.deploy";
import { type DpuWorkloadOutputs, observedFrom } from "./dpu-workload.outputs";
import {
  type ConcreteRuntime,
  DPU_WORKLOAD_INPUT_KEYS,
  type DpuWorkloadInputs,
  DpuWorkloadInputsSchema,
  dpuWorkloadFieldRules,
} from "./dpu-workload.schema";
import { DPU_WORKLOAD_OBSERVED_KEYS } from "./observed-outputs";

export type { DpuWorkloadObserved, DpuWorkloadOutputs } from "./dpu-workload.outputs";
export * from "./dpu-workload.schema";

/** Options of {@link createDpuWorkloadProvider} (tests and benchmarks inject a connector or a root). */
export interface DpuWorkloadProviderOptions {
  /** SSH connector (default: the shared {@link sshPool}). */
  readonly connector?: SshConnector;
  /** Directory of workloads on the DPU (default `/var/lib/pulumi-dpu/workloads`). */
  readonly root?: string;
  /**
   * Lease of the per-workload lock on the DPU, in seconds (default 60). The apply renews it every third of it;
   * a lock whose holder died is taken over once the lease expires (at once when the holder was a process of
   * this machine that no longer exists).
   */
  readonly lockLeaseSeconds?: number;
}

/**
 * Registers every secret of the inputs for redaction (at the start of each operation): what the schema's field
 * metadata marks (connection and jump-host credentials, secretEnv, a secret artifact's content, URL credentials).
 */
function registerInputSecrets(i: Partial<DpuWorkloadInputs>): void {
  registerSchemaSecrets(DpuWorkloadInputsSchema, i);
}

/** The resource id: `<host>:<port>/<name>`. */
export function workloadId(i: Pick<DpuWorkloadInputs, "connection" | "name">): string {
  return `${i.connection.host}:${i.connection.port}/${i.name}`;
}

/** The progress logger of a workload, named for the resource and its DPU (see {@link resourceScope}). */
function workloadLog(i: Pick<DpuWorkloadInputs, "connection" | "name" | "owner">): Logger {
  return logger(resourceScope("DpuWorkload", i.owner, workloadId(i)));
}

/** What runs after a rollback, in words (the previous version's status as observed). */
function describeRunning(st: RemoteStatus): string {
  if (!st.present) return "the workload is no longer on the DPU";
  if (st.status === "running") {
    const pid = st.pid
      ? ` (pid ${st.pid})`
      : st.containerId
        ? ` (container ${st.containerId.slice(0, 12)})`
        : "";
    return `the previous version runs again${pid}`;
  }
  return `the previous version was restored but is ${st.status ?? "in an unknown state"}, so nothing of this workload runs now`;
}

/**
 * `err` with its message starting with `what` (the action and the resource) and redacted: errors of the layers
 * below (an upload, a download, a remote command) name their own step only.
 */
function withContext(err: unknown, what: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const msg = redact(e.message);
  e.message = msg.startsWith(what.split(" (")[0] ?? what) ? msg : `${what}: ${msg}`;
  return e;
}

/** The engine's `__provider` (the serialized provider) of a state object, kept in partial outputs. */
function providerKey(raw: object): { __provider?: unknown } {
  const p = (raw as { __provider?: unknown }).__provider;
  return p === undefined ? {} : { __provider: p };
}

/** Creates the DpuWorkload dynamic provider. */
export function createDpuWorkloadProvider(
  opts: DpuWorkloadProviderOptions = {},
): pulumi.dynamic.ResourceProvider {
  const connector = opts.connector ?? sshPool;
  const root = opts.root ?? WORKLOAD_ROOT;
  const leaseSeconds = opts.lockLeaseSeconds ?? 60;

  /**
   * Runs `fn` holding the workload's lock on the DPU (claiming `artifacts`), and always releases it. Under the
   * lock, a workload recorded with another owner is refused (on update, the owner in state may act too).
   */
  async function locked<T>(
    session: SshSession,
    inputs: DpuWorkloadInputs,
    runtime: ConcreteRuntime,
    action: "create" | "update" | "delete",
    artifacts: readonly { destination: string; overwrite: boolean }[],
    fn: (lease: ApplyLease) => Promise<T>,
    stateOwner?: string,
  ): Promise<T> {
    const lease = await beginApply(
      session,
      { root, name: inputs.name, runtime },
      {
        action,
        owner: inputs.owner,
        stateOwner,
        leaseSeconds,
        artifacts,
        what: `${action} DpuWorkload ${inputs.name} (${workloadId(inputs)})`,
        log: workloadLog(inputs),
      },
    );
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  async function open(i: DpuWorkloadInputs): Promise<SshSession> {
    registerInputSecrets(i);
    return connector.session(toSshTarget(i.connection));
  }

  async function deploy(
    session: SshSession,
    inputs: DpuWorkloadInputs,
    runtime: ConcreteRuntime,
    previous: DpuWorkloadOutputs | undefined,
    engineKey: { __provider?: unknown },
  ): Promise<DpuWorkloadOutputs> {
    const what = `${previous ? "update" : "create"} DpuWorkload ${inputs.name} (${workloadId(inputs)})`;
    let loaded: LoadedArtifact[] = [];
    try {
      loaded = await loadArtifacts(inputs.artifacts);
      const claims = loaded.map((a) => ({ destination: a.destination, overwrite: a.overwrite }));
      return await locked(
        session,
        inputs,
        runtime,
        previous ? "update" : "create",
        claims,
        (lease) => deployLocked(session, inputs, runtime, previous, loaded, lease, engineKey),
        previous?.owner,
      );
    } catch (err) {
      throw withContext(err, what);
    } finally {
      await disposeArtifacts(loaded);
    }
  }

  async function deployLocked(
    session: SshSession,
    inputs: DpuWorkloadInputs,
    runtime: ConcreteRuntime,
    previous: DpuWorkloadOutputs | undefined,
    loaded: readonly LoadedArtifact[],
    lease: ApplyLease,
    engineKey: { __provider?: unknown },
  ): Promise<DpuWorkloadOutputs> {
    const log = workloadLog(inputs);
    const id = workloadId(inputs);
    const spec: WorkloadSpec = resolveSpec(
      inputs,
      runtime,
      loaded.map((a) => ({ destination: a.destination, mode: a.mode, sha256: a.sha256 })),
      root,
    );
    const staged = await stageArtifacts(session, loaded, lease, log);
    log.info(
      `staged ${staged.filter(Boolean).length}/${loaded.length} artifacts; switching and ${inputs.state === "stopped" ? "stopping" : "starting"} (${runtime})`,
    );
    const ref = refOf(spec);
    if (inputs.state === "stopped") {
      await applyVersion(session, spec, "stop", lease, staged);
      const st = await remoteStatus(session, ref, { health: false, logLines: 0 });
      return { ...inputs, ...observedFrom(runtime, inputs, st) };
    }
    await applyVersion(session, spec, "start", lease, staged);
    try {
      const st = await waitHealthy(session, spec, log);
      return { ...inputs, ...observedFrom(runtime, inputs, st) };
    } catch (err) {
      if (!(err instanceof WorkloadUnhealthyError) && !(err instanceof Error && "waitingFor" in err)) {
        // Deployed, but its health could not be observed (connection lost, DPU rebooted): record the resource
        // (the engine updates it at the next run, which re-checks it) instead of leaving it untracked.
        const why = redact(err instanceof Error ? err.message : String(err));
        const props = {
          ...inputs,
          ...observedFrom(runtime, inputs, { present: true, status: "failed", health: "error:unobserved" }),
          // Without the serialized provider the engine could not call this provider again for the resource.
          ...engineKey,
        };
        throw partialError(
          `${previous ? "update" : "create"} DpuWorkload ${inputs.name} (${id}): deployed, but its health could not be observed: ${why}; the next update checks it again`,
          id,
          props,
        );
      }
      const tail = await fetchLogTail(session, spec);
      const why = err instanceof Error ? err.message : String(err);
      if (previous) {
        log.info(`new version unhealthy (${why}); rolling back`);
        const prevRef = { ...ref, runtime: previous.resolvedRuntime };
        const rb = await ctlExec(session, "rollback", prevRef);
        if (rb.exitCode === 3) {
          // No previous version kept on the DPU: stop the failing one rather than leave it crash-looping.
          await ctl(session, "stop", ref);
          const st = await remoteStatus(session, ref, { health: false, logLines: 0 });
          const props = { ...inputs, ...observedFrom(runtime, inputs, st), logTail: tail, ...engineKey };
          throw partialError(
            `update DpuWorkload ${inputs.name} (${id}): ${why}; the DPU kept no previous version to roll back to, so the new version was stopped and nothing of this workload runs now. Last log lines:\n${tail ?? "(none)"}`,
            id,
            props,
          );
        }
        if (rb.exitCode !== 0) {
          throw partialError(
            `update DpuWorkload ${inputs.name} (${id}): ${why}; rolling back to the previous version failed (exit ${rb.exitCode}: ${(rb.stderr || rb.stdout).slice(-300)}); run \`pulumi refresh\` to see what runs`,
            id,
            {
              ...inputs,
              ...observedFrom(runtime, inputs, { present: true, status: "failed" }),
              logTail: tail,
              ...engineKey,
            },
          );
        }
        const st = await remoteStatus(session, prevRef, { health: true, logLines: 0 });
        const props = {
          ...previous,
          ...observedFrom(previous.resolvedRuntime, previous, st),
          logTail: tail,
          ...engineKey,
        };
        throw partialError(
          `update DpuWorkload ${inputs.name} (${id}): ${why}; rolled back: ${describeRunning(st)}. Last log lines:\n${tail ?? "(none)"}`,
          id,
          props,
        );
      }
      await ctl(session, "stop", ref);
      const st = await remoteStatus(session, ref, { health: false, logLines: 0 });
      const props = { ...inputs, ...observedFrom(runtime, inputs, st), logTail: tail, ...engineKey };
      throw partialError(
        `create DpuWorkload ${inputs.name} (${id}): ${why}; stopped it. Last log lines:\n${tail ?? "(none)"}`,
        id,
        props,
      );
    }
  }

  return engineSafe({
    // Stack-wide `dpu:` defaults (sshPrivateKey…): a host process may run this provider before any other one,
    // e.g. `pulumi destroy` deletes workloads first, so each provider reads the config itself.
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      configureFromPulumi(req.config);
    },
    async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
      const { inputs, failures } = checkInputs(DpuWorkloadInputsSchema, news);
      registerInputSecrets(inputs as Partial<DpuWorkloadInputs>);
      return { inputs, failures };
    },

    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      const d = diffInputs(olds, news, DPU_WORKLOAD_INPUT_KEYS, dpuWorkloadFieldRules);
      return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
    },

    async create(raw: DpuWorkloadInputs) {
      const inputs = DpuWorkloadInputsSchema.parse(stripObserved(raw));
      const session = await open(inputs);
      const runtime = inputs.runtime === "auto" ? await detectRuntime(session) : inputs.runtime;
      const outs = await deploy(session, inputs, runtime, undefined, providerKey(raw));
      return { id: workloadId(inputs), outs };
    },

    async read(id: string, props: DpuWorkloadOutputs) {
      const inputs = DpuWorkloadInputsSchema.parse(stripObserved(props));
      const session = await open(inputs);
      const runtime = props.resolvedRuntime ?? (inputs.runtime === "auto" ? "process" : inputs.runtime);
      const st = await remoteStatus(
        session,
        { root, name: inputs.name, runtime },
        { health: true, logLines: 20 },
      );
      if (!st.present) return {};
      const observed = observedFrom(runtime, inputs, st);
      const rewritten: DpuWorkloadInputs = {
        ...inputs,
        ...recordedDefinition(inputs, st),
        state: observed.status === "running" ? "running" : (observed.status as DpuWorkloadInputs["state"]),
        artifacts: inputs.artifacts.map((a, i) => {
          const seen = artifactDigestOf(st, a.destination, i);
          const recorded = props.artifactDigests?.[a.destination];
          if (seen === recorded) return a;
          return { ...a, sha256: seen === "-" ? "missing" : seen };
        }),
      };
      return { id, props: { ...rewritten, ...observed }, inputs: rewritten };
    },

    async update(id: string, olds: DpuWorkloadOutputs, news: DpuWorkloadInputs) {
      const inputs = DpuWorkloadInputsSchema.parse(stripObserved(news));
      const d = diffInputs(
        olds as unknown as Record<string, unknown>,
        inputs as unknown as Record<string, unknown>,
        DPU_WORKLOAD_INPUT_KEYS,
        dpuWorkloadFieldRules,
      );
      const session = await open(inputs);
      const runtime =
        olds.resolvedRuntime ?? (inputs.runtime === "auto" ? await detectRuntime(session) : inputs.runtime);
      if (d.changed.every((c) => c.noHardwareAction)) {
        const st = await remoteStatus(
          session,
          { root, name: inputs.name, runtime },
          { health: true, logLines: 20 },
        );
        // Same declaration: done when the DPU matches it. Otherwise (a deploy cut short by a reboot or a lost
        // connection, recorded as a partial resource) deploy again.
        const wantRunning = inputs.state !== "stopped";
        if (st.present && (st.status === "running") === wantRunning) {
          // Another owner recorded on the DPU: refused under the lock (unless it is the owner in state, a
          // hand-over). A workload deployed before owners existed (or by this resource under its old owner): the
          // owner is recorded now, without a redeploy, so that another stack's create of this name is refused.
          const owner = inputs.owner;
          if ((st.meta?.owner ?? "") !== (owner ?? "")) {
            await locked(
              session,
              inputs,
              runtime,
              "update",
              [],
              async () => {
                if (owner !== undefined)
                  await ctl(session, "setowner", { root, name: inputs.name, runtime }, [owner]);
              },
              olds.owner,
            );
          }
          return { outs: { ...inputs, ...observedFrom(runtime, inputs, st) } };
        }
        workloadLog(inputs).info(
          `the DPU does not match the declaration (${st.present ? `status ${st.status}` : "not deployed"}); deploying again`,
        );
      }
      const previous = {
        ...olds,
        ...DpuWorkloadInputsSchema.parse(stripObserved(olds)),
        resolvedRuntime: runtime,
      };
      void id;
      return { outs: await deploy(session, inputs, runtime, previous, providerKey(news)) };
    },

    async delete(_id: string, props: DpuWorkloadOutputs) {
      const inputs = DpuWorkloadInputsSchema.parse(stripObserved(props));
      const session = await open(inputs);
      const runtime =
        props.resolvedRuntime ?? (inputs.runtime === "auto" ? await detectRuntime(session) : inputs.runtime);
      const log = workloadLog(inputs);
      try {
        await locked(session, inputs, runtime, "delete", [], () =>
          ctl(session, "remove", { root, name: inputs.name, runtime }),
        );
      } catch (err) {
        if (err instanceof WorkloadOwnedError) {
          // Another stack created a workload of this name after ours was gone: it is not this resource's to
          // remove. The resource is deleted from this stack; the DPU keeps the other owner's workload.
          log.info(`${err.message}; this resource is removed from the stack without touching it`);
          return;
        }
        throw withContext(err, `delete DpuWorkload ${inputs.name} (${workloadId(inputs)})`);
      }
      log.info("removed");
    },
  } satisfies pulumi.dynamic.ResourceProvider);
}

/**
 * The definition recorded on the DPU (argv, working directory, user, restart policy, owner), as inputs: a spec
 * changed behind Pulumi's back shows as drift. Fields the DPU did not send are left as declared.
 */
function recordedDefinition(inputs: DpuWorkloadInputs, st: RemoteStatus): Partial<DpuWorkloadInputs> {
  const out: { -readonly [K in keyof DpuWorkloadInputs]?: DpuWorkloadInputs[K] } = {};
  const argv = st.argv;
  if (argv && (argv.length > 0 || inputs.command !== undefined)) {
    if (inputs.shell && argv.length === 3 && argv[0] === "/bin/sh" && argv[1] === "-c") {
      // As declared: a shell string stays a string, a one-element array an array.
      out.command = typeof inputs.command === "string" ? (argv[2] ?? "") : [argv[2] ?? ""];
    } else if (argv.length > 0) {
      out.command = [...argv];
      if (inputs.shell) out.shell = false;
    }
  }
  const m = st.meta;
  if (m) {
    if (m.workdir !== undefined) out.workingDir = m.workdir === "" ? undefined : m.workdir;
    if (m.user !== undefined) out.user = m.user === "" ? undefined : m.user;
    if (m.restart === "no" || m.restart === "on-failure" || m.restart === "always") out.restart = m.restart;
    // No recorded owner (an older version deployed it): adopted at the next deployment, not drift.
    if (m.owner) out.owner = m.owner;
  }
  return out;
}

/** The input part of a state object (observed fields removed; a drifted `state` restored to a valid value). */
function stripObserved(props: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(props as Record<string, unknown>) };
  for (const k of DPU_WORKLOAD_OBSERVED_KEYS) delete out[k];
  delete out.__provider;
  if (out.state !== "running" && out.state !== "stopped") out.state = "running";
  if (Array.isArray(out.artifacts)) {
    out.artifacts = out.artifacts.map((a: Record<string, unknown>) =>
      typeof a.sha256 === "string" && !SHA256_HEX.test(a.sha256) ? { ...a, sha256: undefined } : a,
    );
  }
  return out;
}

/** The DpuWorkload provider, using the shared SSH pool. */
export const dpuWorkloadProvider = createDpuWorkloadProvider();

/** Alias under the name the package exports (`require("pulumi-dpu/provider").dpuWorkload`). */
export const dpuWorkload = dpuWorkloadProvider;
