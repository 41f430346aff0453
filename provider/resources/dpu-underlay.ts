import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { configureFromPulumi } from "../config";
import { ValidationError } from "../errors";
import { checkInputs, diffInputs, pickKeys } from "../lifecycle";
import { registerSchemaSecrets } from "../lifecycle/field-meta";
import { partialError } from "../lifecycle/partial-error";
import { engineSafe } from "../lifecycle/wire-safe";
import { type Logger, logger, redact, resourceScope } from "../log";
import { sshPool } from "../ssh";
import { toSshTarget } from "../ssh/connection-schema";
import type { SshConnector, SshSession, SshTarget } from "../ssh/types";
import {
  interfaceClaimConflict,
  ownerName,
  readAllRecords,
  recordOwnerConflict,
  UnderlayOwnedError,
} from "../underlay/claims";
import { acquireUnderlayLock } from "../underlay/lock";
import { managementRisks } from "../underlay/management";
import type { ObservedState } from "../underlay/observed";
import { managementLink, planUnderlay } from "../underlay/planner";
import type { UnderlayRecord } from "../underlay/record";
import {
  applyWithRollback,
  readObserved,
  recordPath,
  removeRemoteFiles,
  stagingPrefix,
  writeRemoteFile,
} from "../underlay/remote";
import type { RenderedFile } from "../underlay/render-model";
import { renderNetplan } from "../underlay/render-netplan";
import { renderNetworkd } from "../underlay/render-networkd";
import { renderNetworkManager } from "../underlay/render-networkmanager";
import {
  appliedDigest,
  type DpuUnderlayOutputs,
  desiredOf,
  inputsAsObserved,
  observedOutputs,
  renderInput,
} from "./dpu-underlay.observe";
import {
  DPU_UNDERLAY_INPUT_KEYS,
  type DpuUnderlayInputs,
  DpuUnderlayInputsSchema,
  dpuUnderlayFieldRules,
} from "./dpu-underlay.schema";

export type { DpuUnderlayOutputs, ObservedInterface } from "./dpu-underlay.observe";
export * from "./dpu-underlay.schema";

/** Options of {@link createDpuUnderlayProvider}. */
export interface DpuUnderlayProviderOptions {
  /** SSH connector (default: the shared `sshPool`). */
  readonly connector?: SshConnector;
}

/** Registers the secrets the schema's field metadata marks (connection and jump-host credentials) for redaction. */
function registerInputSecrets(i: Partial<DpuUnderlayInputs>): void {
  registerSchemaSecrets(DpuUnderlayInputsSchema, i);
}

/**
 * The resource id: `underlay-<16 hex>`, a sha256 of the SSH endpoint (`host:port`) and the sorted interface
 * selectors declared at creation. Stable across updates (the id never changes), distinct for two DpuUnderlay
 * resources on one DPU that manage different interfaces, and safe as a file name for the record on the DPU.
 */
export function underlayId(i: Pick<DpuUnderlayInputs, "connection" | "interfaces">): string {
  const sel = i.interfaces.map((x) => x.name ?? `mac:${x.mac?.toLowerCase()}`).sort();
  const h = createHash("sha256")
    .update(`${i.connection.host}:${i.connection.port}|${sel.join(",")}`)
    .digest("hex");
  return `underlay-${h.slice(0, 16)}`;
}

/** The progress logger of an underlay, named for the resource, its DPU and its id (see {@link resourceScope}). */
function underlayLog(id: string, i: Pick<DpuUnderlayInputs, "connection" | "owner">): Logger {
  return logger(resourceScope("DpuUnderlay", i.owner, `${i.connection.host}:${i.connection.port} ${id}`));
}

type Backend = DpuUnderlayOutputs["persistence"]["backend"];

function chooseBackend(
  want: DpuUnderlayInputs["persist"],
  obs: ObservedState,
): { backend: Backend; note: string } {
  if (want === "none") return { backend: "none", note: "runtime only (persist: none): lost on reboot" };
  if (want !== "auto") return { backend: want, note: `persisted with ${want} (requested)` };
  if (obs.backends.netplan) return { backend: "netplan", note: "persisted with netplan (detected)" };
  if (obs.backends.networkmanager)
    return { backend: "networkmanager", note: "persisted with NetworkManager (detected)" };
  if (obs.backends.networkd)
    return { backend: "networkd", note: "persisted with systemd-networkd (detected)" };
  return {
    backend: "none",
    note: "runtime only: no netplan, NetworkManager or systemd-networkd on the DPU (auto), lost on reboot",
  };
}

function render(backend: Backend, input: ReturnType<typeof renderInput>): RenderedFile[] {
  switch (backend) {
    case "netplan":
      return renderNetplan(input);
    case "networkmanager":
      return renderNetworkManager(input);
    case "networkd":
      return renderNetworkd(input);
    default:
      return [];
  }
}

/** Creates the DpuUnderlay dynamic provider. */
export function createDpuUnderlayProvider(
  opts: DpuUnderlayProviderOptions = {},
): pulumi.dynamic.ResourceProvider {
  const connector = opts.connector ?? sshPool;

  function target(i: DpuUnderlayInputs): SshTarget {
    registerInputSecrets(i);
    return toSshTarget(i.connection);
  }

  function outputsOf(
    id: string,
    inputs: DpuUnderlayInputs,
    obs: ObservedState,
    mgmt: string | undefined,
    persistence: DpuUnderlayOutputs["persistence"],
    resolved: readonly { name: string; vlans: readonly string[] }[],
  ): DpuUnderlayOutputs {
    return {
      ...inputs,
      ...observedOutputs(inputs, obs),
      ...(mgmt !== undefined ? { managementInterface: mgmt } : {}),
      persistence,
      appliedDigest: appliedDigest(renderInput(id, inputs, resolved), inputs.hostname),
      added: obs.record ?? { version: 1, links: {}, vlans: [], routes: [], files: [] },
    };
  }

  /**
   * Plans, applies with rollback, persists and returns the outputs. Shared by create, update and delete; holds
   * the underlay's lock on the DPU from the first read to the last write.
   */
  async function converge(
    id: string,
    inputs: DpuUnderlayInputs,
    action: "create" | "update" | "delete",
    stateOwner?: string,
  ): Promise<DpuUnderlayOutputs> {
    const t = target(inputs);
    const log = underlayLog(id, inputs);
    const session: SshSession = await connector.session(t);
    const lock = await acquireUnderlayLock(session, {
      id,
      action,
      // The longest apply: the window, the wait for a rollback after it, the checks and the writes.
      leaseSeconds: 2 * inputs.safety.rollbackAfterSeconds + 300,
      stagingPrefix: stagingPrefix(id),
      log,
    });
    try {
      return await convergeLocked(id, inputs, action, stateOwner, session, t, log);
    } finally {
      try {
        await lock.release(await connector.session(t));
      } catch (err) {
        log.info(
          `could not release the lock of ${id} on the DPU (${err instanceof Error ? err.message : String(err)}); the next apply takes it over once its lease ends`,
        );
      }
    }
  }

  async function convergeLocked(
    id: string,
    inputs: DpuUnderlayInputs,
    action: "create" | "update" | "delete",
    stateOwner: string | undefined,
    session: SshSession,
    t: SshTarget,
    log: Logger,
  ): Promise<DpuUnderlayOutputs> {
    const forDelete = action === "delete";
    const obs = await readObserved(session, id);
    const mgmt = managementLink(obs, inputs.connection.host);
    // One owner per underlay on the DPU: another stack's (or resource's) record is never taken over or removed.
    const foreign = recordOwnerConflict(obs.record, [inputs.owner, stateOwner]);
    if (foreign !== undefined) {
      if (forDelete) {
        log.info(
          `left ${recordPath(id)} and what it holds on the DPU: it belongs to ${ownerName(foreign)}, not to this resource (${ownerName(inputs.owner)})`,
        );
        return outputsOf(id, inputs, obs, mgmt, { backend: "none", files: [], note: "deleted" }, []);
      }
      throw new UnderlayOwnedError(
        `${action} DpuUnderlay ${id} (${session.label}): the DPU already holds this underlay (${recordPath(id)}) for ${ownerName(foreign)}, and this resource is ${ownerName(inputs.owner)}; nothing was changed. Two resources declare the same interfaces on this DPU: keep one, or delete the other first.`,
      );
    }
    const desired = forDelete ? { interfaces: [], routes: [] } : desiredOf(inputs);
    const plan = planUnderlay(desired, obs, mgmt);
    const claims = [...new Set(plan.resolved.flatMap((r) => [r.name, ...r.vlans]).filter((n) => n !== ""))];
    if (!forDelete) {
      const clash = interfaceClaimConflict(id, claims, await readAllRecords(session));
      if (clash !== undefined) {
        throw new UnderlayOwnedError(
          `${action} DpuUnderlay ${id} (${session.label}): ${clash.shared.join(", ")} ${clash.shared.length > 1 ? "are" : "is"} managed by DpuUnderlay ${clash.other.id} (${ownerName(clash.other.record.owner)}), recorded in ${recordPath(clash.other.id)}; nothing was changed. Declare each interface in one DpuUnderlay only, or delete the other one first.`,
        );
      }
    }
    if (!inputs.safety.allowManagementInterface) {
      // Refused before anything is applied: every change that can take the SSH session's path away.
      const risks = forDelete
        ? plan.touchesManagement.map((l) => ({
            property: "interfaces",
            reason: `the change touches ${l}, which carries the SSH session; set safety.allowManagementInterface to allow it (the rollback stays armed)`,
          }))
        : managementRisks(desired, obs, mgmt, plan);
      if (risks.length > 0) throw new ValidationError("DpuUnderlay", risks);
    }
    const { backend, note } = forDelete
      ? { backend: "none" as Backend, note: "deleted" }
      : chooseBackend(inputs.persist, obs);
    const rendered = renderInput(id, inputs, plan.resolved);
    if (backend !== "none") {
      const lost = rendered.routes.flatMap((r, i) => (r.dev === undefined ? [i] : []));
      if (lost.length > 0) {
        // Checked before anything is applied: a route the backend cannot hold would vanish at the next boot.
        throw new ValidationError(
          "DpuUnderlay",
          lost.map((i) => ({
            property: `routes[${i}].dev`,
            reason: `${backend} attaches routes to an interface, and the gateway ${inputs.routes[i]?.via ?? "(none)"} of ${inputs.routes[i]?.destination} is in no declared interface's subnet; set dev (a declared interface) or persist: "none"`,
          })),
        );
      }
    }
    const files = render(backend, rendered);
    const record: UnderlayRecord = {
      ...plan.record,
      files: files.map((f) => f.path),
      ...(inputs.owner !== undefined ? { owner: inputs.owner } : {}),
      interfaces: claims,
    };
    const previousFiles = obs.record?.files ?? [];
    if (!plan.empty) {
      try {
        await applyWithRollback(session, {
          id,
          plan,
          record,
          // What a restore that could not undo everything leaves: the change's record, with every file either
          // version wrote (removing a missing one is fine).
          partialRecord: { ...record, files: [...new Set([...previousFiles, ...record.files])] },
          rollbackAfterSeconds: inputs.safety.rollbackAfterSeconds,
          probes: forDelete ? [] : inputs.safety.probes,
          connector,
          target: t,
          log,
        });
      } catch (err) {
        throw await withLeftovers(err, id, inputs, mgmt, plan.resolved, t);
      }
    } else if (!forDelete) {
      await writeRemoteFile(session, { path: recordPath(id), mode: 0o644, content: JSON.stringify(record) });
    }
    for (const f of files) await writeRemoteFile(session, f);
    const stale = previousFiles.filter((p) => !files.some((f) => f.path === p));
    if (forDelete) await removeRemoteFiles(session, [...stale, recordPath(id)]);
    else await removeRemoteFiles(session, stale);
    const after = await readObserved(session, id);
    return outputsOf(
      id,
      inputs,
      after,
      mgmt,
      { backend, files: files.map((f) => f.path), note },
      plan.resolved,
    );
  }

  /**
   * A failed apply whose restore could not undo every step left changes on the DPU (recorded there by the
   * restore): the error then carries the outputs observed now, so create can return a partial resource that the
   * next update or delete cleans up.
   */
  async function withLeftovers(
    err: unknown,
    id: string,
    inputs: DpuUnderlayInputs,
    mgmt: string | undefined,
    resolved: readonly { name: string; vlans: readonly string[] }[],
    t: SshTarget,
  ): Promise<unknown> {
    const notUndone = (err as { notUndone?: readonly unknown[] } | null)?.notUndone;
    if (!(err instanceof Error) || !notUndone || notUndone.length === 0) return err;
    try {
      const after = await readObserved(await connector.session(t), id);
      const outs = outputsOf(
        id,
        inputs,
        after,
        mgmt,
        { backend: "none", files: [], note: "partially restored after a failed apply" },
        resolved,
      );
      return Object.assign(err, { leftoverOutputs: outs });
    } catch {
      return err;
    }
  }

  return engineSafe({
    // Stack-wide `dpu:` defaults (sshPrivateKey…): a host process may run this provider before any other one,
    // e.g. `pulumi destroy` deletes workloads first, so each provider reads the config itself.
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      configureFromPulumi(req.config);
    },
    async check(_olds: unknown, news: unknown) {
      const { inputs, failures } = checkInputs(DpuUnderlayInputsSchema, news);
      return { inputs, failures };
    },

    async diff(_id: string, olds: DpuUnderlayOutputs, news: DpuUnderlayInputs) {
      const d = diffInputs(
        olds as unknown as Record<string, unknown>,
        news as unknown as Record<string, unknown>,
        DPU_UNDERLAY_INPUT_KEYS,
        dpuUnderlayFieldRules,
      );
      return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
    },

    async create(inputs: DpuUnderlayInputs) {
      const id = underlayId(inputs);
      try {
        return { id, outs: await converge(id, inputs, "create") };
      } catch (err) {
        const left = (err as { leftoverOutputs?: DpuUnderlayOutputs } | null)?.leftoverOutputs;
        // Changes the restore could not undo stay in state (partial), so the next update or delete removes them.
        if (left !== undefined)
          throw partialError(err instanceof Error ? err.message : String(err), id, left);
        throw redactError(err);
      }
    },

    async read(id: string, props?: DpuUnderlayOutputs) {
      if (!props?.connection) return { id, props: props ?? {} };
      const t = target(props);
      const session = await connector.session(t);
      const obs = await readObserved(session, id);
      if (obs.record === undefined) return {};
      const mgmt = managementLink(obs, props.connection.host);
      // Only the input keys: `props` are the previous outputs, whose observed* fields must not outlive this read.
      // The owner is the one the DPU records (another stack took it over: drift); a record of an older version
      // (no owner) keeps the declared one, adopted at the next apply.
      const inputs = inputsAsObserved(
        {
          ...(pickKeys(props, DPU_UNDERLAY_INPUT_KEYS) as unknown as DpuUnderlayInputs),
          ...(obs.record.owner !== undefined ? { owner: obs.record.owner } : {}),
        },
        obs,
      );
      const resolved = props.interfaces.map((itf) => ({
        name: itf.name ?? "",
        vlans: itf.vlans.map((v) => v.name ?? `${itf.name}.${v.id}`),
      }));
      const outs = { ...outputsOf(id, props, obs, mgmt, props.persistence, resolved), ...inputs };
      return { id, props: outs, inputs };
    },

    async update(id: string, olds: DpuUnderlayOutputs, news: DpuUnderlayInputs) {
      try {
        return { outs: await converge(id, news, "update", olds.owner) };
      } catch (err) {
        throw partialError(err instanceof Error ? err.message : String(err), id, olds);
      }
    },

    async delete(id: string, props: DpuUnderlayOutputs) {
      try {
        await converge(id, props, "delete");
      } catch (err) {
        throw redactError(err);
      }
    },
  } as pulumi.dynamic.ResourceProvider);
}

function redactError(err: unknown): Error {
  if (err instanceof Error) {
    err.message = redact(err.message);
    return err;
  }
  return new Error(redact(String(err)));
}

/** The DpuUnderlay provider with the shared SSH pool. */
export const dpuUnderlayProvider = createDpuUnderlayProvider();
/** Alias: `require("pulumi-dpu/provider").dpuUnderlay`. */
export const dpuUnderlay = dpuUnderlayProvider;
