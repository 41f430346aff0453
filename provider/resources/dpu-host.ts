import type * as pulumi from "@pulumi/pulumi";
import { configureFromPulumi } from "../config";
import { isRedfishHttpError } from "../errors/redfish-http-error";
import { beginClaim, type ClaimRequest } from "../host/claims";
import { bmcClient, dpuHostId, registerInputSecrets } from "../host/context";
import { applyTimeNote, withInventory } from "../host/deferred-update";
import {
  findFirmwareInventory,
  firmwareMismatchError,
  firmwareMismatches,
  readInventory,
} from "../host/firmware-inventory";
import {
  DPU_HOST_INPUT_KEYS,
  type DpuHostInputs,
  DpuHostInputsSchema,
  type DpuHostOutputs,
  dpuHostFieldRules,
} from "../host/inputs.schema";
import { installUnfinished } from "../host/install-state";
import { knownBootProgress, rememberBootProgress } from "../host/known-bmcs";
import { applyMode, modeBeforeInstall, modeChangePlan } from "../host/mode-change";
import { observe } from "../host/observe";
import { platformRefusal, readPlatform } from "../host/platform-check";
import { applyPower, buildOutputs, imageCredentials, provision, readinessRefusal } from "../host/provision";
import { ejectLeftSeedOn, removeLeftStagedSeed } from "../host/seed-cleanup";
import { type DpuHostTransports, defaultHostTransports, withHostTransports } from "../host/transports";
import { checkInputs } from "../lifecycle/check";
import { diffInputs } from "../lifecycle/diff";
import { pickKeys } from "../lifecycle/pick";
import { logger, redact } from "../log";
import {
  capabilitiesFromKept,
  clearBootOverride,
  discover,
  ejectMedia,
  insertMedia,
  isKeptCapabilities,
  type KeptCapabilities,
  keepCapabilities,
  overrideIsOurs,
  type RedfishLayer,
  readSlotFresh,
  readSystem,
  withBmcLock,
} from "../redfish";
import { scpTrustNote } from "../redfish/scp-key-exchange";
import type { SshConnector } from "../ssh";

export {
  DPU_HOST_SECRET_INPUTS,
  type DpuHostInputs,
  DpuHostInputsSchema,
  type DpuHostOutputs,
  dpuHostFieldRules,
  type InstalledImage,
} from "../host/inputs.schema";

import { engineSafe } from "../lifecycle/wire-safe";

function parse(props: unknown): DpuHostInputs {
  return DpuHostInputsSchema.parse(pickKeys(props, DPU_HOST_INPUT_KEYS));
}

function scope(inputs: Partial<DpuHostInputs>): ReturnType<typeof logger> {
  return logger(
    `DpuHost ${inputs.bmc?.endpoint ?? "?"}${inputs.bmc?.systemId ? `/${inputs.bmc.systemId}` : ""}`,
  );
}

/**
 * Errors leave the provider redacted: registered secrets and URL userinfo never reach the engine's output. A
 * partial error keeps its `id`/`properties` (the engine records the partial resource) with redacted reasons.
 */
async function redacting<T>(fn: () => Promise<T>, providerText?: unknown, ctx?: ErrorContext): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) {
      // A partial resource knows its system already; so does an error raised once discovery found it.
      const known =
        (err as { properties?: { systemId?: unknown } }).properties?.systemId ??
        (err as { dpuSystemId?: unknown }).dpuSystemId;
      if (ctx && typeof known === "string")
        ctx = { ...ctx, props: { ...(ctx.props as object), systemId: known } };
      const named = ctx ? namedMessage(err.message, ctx) : err.message;
      err.message = redact(named);
      // The host does not add `__provider` to a partial resource's properties; without it the engine could not
      // load this provider to read, update or delete the partial resource.
      const properties = (err as { properties?: unknown }).properties;
      if (typeof providerText === "string" && properties !== null && typeof properties === "object") {
        (err as { properties?: unknown }).properties = { ...properties, __provider: providerText };
      }
      if (err.stack) err.stack = redact(err.stack);
      const reasons = (err as { reasons?: unknown }).reasons;
      if (Array.isArray(reasons)) {
        (err as { reasons?: unknown }).reasons = reasons.map((r) =>
          redact(ctx ? namedMessage(String(r), ctx) : String(r)),
        );
      }
      throw err;
    }
    throw new Error(redact(ctx ? namedMessage(String(err), ctx) : String(err)));
  }
}

/** What every DpuHost error names: the action, the resource (its system) and the BMC. */
interface ErrorContext {
  readonly action: "create" | "read" | "update" | "delete";
  readonly props: unknown;
}

/**
 * `message`, prefixed with `<action> DpuHost <name> (<system> on BMC <origin>)`: every error leaving the provider
 * starts with the operation and the resource (its owner's name when the SDK set one). A message that names the
 * BMC already (`log in on BMC …`) is not told the BMC twice; one that starts with the prefix is kept.
 */
function namedMessage(message: string, ctx: ErrorContext): string {
  const p = (ctx.props ?? {}) as {
    bmc?: { endpoint?: unknown; systemId?: unknown };
    systemId?: unknown;
    owner?: unknown;
  };
  const name = typeof p.owner === "string" ? ` ${p.owner.split("/").pop()}` : "";
  const head = `${ctx.action} DpuHost${name}`;
  if (message.startsWith(`${head} (`) || message.startsWith(`${head}:`)) return message;
  const endpoint = typeof p.bmc?.endpoint === "string" ? p.bmc.endpoint : undefined;
  let origin = endpoint;
  try {
    if (endpoint) origin = new URL(endpoint).origin;
  } catch {
    // not a URL: check() refuses it; name it as given
  }
  const system =
    typeof p.systemId === "string"
      ? `system ${p.systemId}`
      : typeof p.bmc?.systemId === "string"
        ? `system ${p.bmc.systemId}`
        : "the DPU's system";
  const named = origin === undefined || message.includes(origin) || (endpoint && message.includes(endpoint));
  return `${head} (${system}${named ? "" : ` on BMC ${origin}`}): ${message}`;
}

/** The serialized provider text the engine passed along with the inputs (`__provider`), if any. */
function providerOf(props: unknown): unknown {
  return props !== null && typeof props === "object"
    ? (props as { __provider?: unknown }).__provider
    : undefined;
}

/** Non-image, non-replace changes on an existing DPU: credentials (nothing to do), power, media retention. */
async function reconcile(inputs: DpuHostInputs, olds: DpuHostOutputs): Promise<DpuHostOutputs> {
  const log = scope(inputs);
  return withBmcLock(inputs.bmc.endpoint, async () => {
    const client = bmcClient(inputs);
    try {
      // The capabilities kept in state (issue 15: no discovery); otherwise the paths kept in state are read
      // directly (no manager or slot collection reads).
      const kept = keptFor(olds, inputs.bmc.virtualMediaId);
      const caps = kept
        ? capabilitiesFromKept(kept, { inserted: false })
        : await discover(client, {
            systemId: olds.discovery.systemPath,
            ...(olds.discovery.slotPath && !inputs.bmc.virtualMediaId
              ? { slotPath: olds.discovery.slotPath }
              : {}),
            ...(inputs.bmc.virtualMediaId ? { virtualMediaId: inputs.bmc.virtualMediaId } : {}),
            minimalReads: true,
          });
      if (kept) client.useSessionsPath(kept.sessionsPath);
      let sys = await readSystem(client, caps.systemPath);
      if (!sys) throw new Error("the system no longer exists");
      const slot = olds.discovery.method === "virtualMedia" ? caps.virtualMedia.chosen : undefined;
      // Only the media this resource inserted (the recorded image), never someone else's.
      const ours = olds.installedImage?.url ?? olds.image.url;
      if (slot && inputs.ejectAfterInstall)
        await ejectMedia(client, slot, { timeoutMs: 60_000, onlyImage: ours });
      if (slot && !inputs.ejectAfterInstall) {
        // The slot's state now (kept capabilities carry none; discovery read it moments ago).
        const now = kept ? await readSlotFresh(client, slot) : slot;
        if (!now.inserted) {
          await insertMedia(client, now, inputs.image.url, {
            timeoutMs: inputs.image.timeoutMs,
            ...imageCredentials(inputs),
            fresh: true,
          });
        }
      }
      sys = await applyPower(client, caps, inputs, sys, log);
      const capsOut = {
        ...caps,
        ...(slot ? { slotPath: slot.path } : {}),
        kept: kept ?? keepCapabilities(caps),
      };
      const built = buildOutputs(
        inputs,
        capsOut,
        olds.discovery.method,
        sys,
        undefined,
        olds.installedImage,
        olds,
      );
      return keepFirmware(built, olds);
    } finally {
      await client.close();
    }
  });
}

/** Options of {@link createDpuHostProvider}: the transports it uses, each defaulting to the shared one. */
export interface DpuHostProviderOptions {
  /** SSH connector of the readiness probe (`ready.ssh`). Default: the shared `sshPool`. */
  readonly ssh?: SshConnector;
  /** What every BMC client of this provider is built with. */
  readonly redfish?: {
    /** Layers around each client's transport, outermost first (a `RequestCounter`'s layer). Default none. */
    readonly layers?: readonly RedfishLayer[];
  };
}

/**
 * A DpuHost dynamic provider using the given transports: provisions a DPU over Redfish (virtual media, UEFI
 * HTTP boot or SimpleUpdate), observes it cheaply, reprovisions in place on image change. Each operation runs
 * with this instance's transports (provider/host/transports.ts), whatever other instances in the process use.
 */
export function createDpuHostProvider(opts: DpuHostProviderOptions = {}): pulumi.dynamic.ResourceProvider {
  const t: DpuHostTransports = {
    ssh: opts.ssh ?? defaultHostTransports.ssh,
    redfishLayers: opts.redfish?.layers ?? defaultHostTransports.redfishLayers,
  };
  const scoped =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      withHostTransports(t, () => fn(...args));
  return engineSafe({
    configure: scoped(hostOperations.configure),
    check: scoped(hostOperations.check),
    diff: scoped(hostOperations.diff),
    create: scoped(hostOperations.create),
    read: scoped(hostOperations.read),
    update: scoped(hostOperations.update),
    delete: scoped(hostOperations.delete),
  });
}

/** The operations of DpuHost; {@link createDpuHostProvider} runs each with its instance's transports. */
const hostOperations = {
  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    configureFromPulumi(req.config);
  },

  async check(olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult> {
    const { inputs, failures } = checkInputs(DpuHostInputsSchema, news);
    if (failures.length > 0) return { inputs, failures };
    // Whether anything can observe the boot: ready.bootProgress off, or a BMC known (from the last discovery)
    // to show no BootProgress, needs ready.ssh. Unknown BMCs are checked at the start of create().
    const parsed = DpuHostInputsSchema.safeParse(inputs);
    if (parsed.success) {
      const known =
        (olds as Partial<DpuHostOutputs> | undefined)?.discovery?.bootProgressSupported ??
        knownBootProgress(parsed.data.bmc.endpoint, parsed.data.bmc.systemId);
      const why = readinessRefusal(
        parsed.data,
        known ?? true,
        `the system of BMC ${parsed.data.bmc.endpoint} (as last discovered)`,
      );
      if (why) failures.push({ property: "ready.ssh", reason: why });
      // Shown in preview: an unpinned SCP server key will be trusted on first use.
      const tofu = scpTrustNote(parsed.data.image.url, parsed.data.image.scpHostKey);
      if (tofu) scope(parsed.data).info(tofu);
      // Shown in preview: an install staged for the next reset, and whether DpuHost resets (issue 17 item 5).
      const deferred = applyTimeNote(parsed.data);
      if (deferred) scope(parsed.data).info(deferred);
    }
    return { inputs, failures };
  },

  async diff(_id: string, olds: DpuHostOutputs, news: DpuHostInputs): Promise<pulumi.dynamic.DiffResult> {
    // Shown in preview: a mode change, as the sequence NVIDIA documents (issue 17 items 3 and 6).
    if (news?.mode && news.mode !== olds?.mode) {
      const parsed = DpuHostInputsSchema.safeParse(pickKeys(news, DPU_HOST_INPUT_KEYS));
      if (parsed.success)
        scope(parsed.data).info(`will change ${modeChangePlan(news.mode, parsed.data.host)}`);
    }
    const d = diffInputs(
      olds as unknown as Record<string, unknown>,
      news as unknown as Record<string, unknown>,
      DPU_HOST_INPUT_KEYS,
      dpuHostFieldRules,
    );
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
  },

  async create(news: DpuHostInputs): Promise<pulumi.dynamic.CreateResult> {
    registerInputSecrets(news);
    return redacting(
      async () => {
        const inputs = parse(news);
        // One writer per DPU: refused here, before anything is read or changed, when another holds the system.
        return claimed(
          {
            endpoint: inputs.bmc.endpoint,
            system: inputs.bmc.systemId,
            owner: inputs.owner,
            action: "create",
          },
          async (claim) => {
            await checkPlatform(inputs);
            // Mode nic refused, a DPU found in NIC mode switched first (issue 17 items 3 and 6).
            const operatingMode = await modeBeforeInstall(inputs, undefined, scope(inputs));
            const outs = await provision(inputs, undefined, scope(inputs), claim);
            const id = dpuHostId(inputs.bmc.endpoint, outs.discovery.systemPath);
            const done = await withFirmware(inputs, outs, id);
            return { id, outs: operatingMode ? { ...done, operatingMode } : done };
          },
        );
      },
      providerOf(news),
      { action: "create", props: news },
    );
  },

  async read(id: string, props: DpuHostOutputs): Promise<pulumi.dynamic.ReadResult> {
    if (!props?.discovery?.systemPath) return {};
    registerInputSecrets(props);
    rememberBootProgress(
      props.bmc.endpoint,
      {
        systemId: props.systemId,
        systemPath: props.discovery.systemPath,
        ...(props.bmc.systemId ? { requested: props.bmc.systemId } : {}),
      },
      props.discovery.bootProgressSupported,
    );
    return redacting(
      async () => {
        const seen = await observe(props, scope(props));
        if (!seen) return {};
        return { id, props: seen.outputs, inputs: seen.inputs } as pulumi.dynamic.ReadResult;
      },
      undefined,
      { action: "read", props },
    );
  },

  async update(_id: string, olds: DpuHostOutputs, news: DpuHostInputs): Promise<pulumi.dynamic.UpdateResult> {
    registerInputSecrets(news);
    registerInputSecrets(olds);
    return redacting(
      async () => {
        const inputs = parse(news);
        const system = olds.systemId ?? olds.discovery?.systemPath;
        const req: ClaimRequest = {
          endpoint: inputs.bmc.endpoint,
          system,
          owner: inputs.owner,
          ...(olds.owner ? { previousOwner: olds.owner } : {}),
          action: "update",
        };
        // The owner in state may hand the DPU over to the declared one; another owner's claim refuses.
        return claimed(req, async (claim) => {
          if (system) claim.bind(system);
          return { outs: await updateHost(inputs, olds, _id) };
        });
      },
      providerOf(news),
      { action: "update", props: { ...news, systemId: olds?.systemId } },
    );
  },

  async delete(_id: string, props: DpuHostOutputs): Promise<void> {
    if (!props?.discovery?.systemPath) return;
    registerInputSecrets(props);
    await redacting(
      () =>
        claimed(
          {
            endpoint: props.bmc.endpoint,
            system: props.systemId ?? props.discovery.systemPath,
            owner: props.owner,
            action: "delete",
          },
          async (claim) => {
            const system = props.systemId ?? props.discovery.systemPath;
            const other = claim.claimedByOther(system);
            if (other) {
              // Another DpuHost holds this DPU now: what runs there is its image, not this resource's.
              scope(props).info(
                `system ${system} is claimed by DpuHost ${other}: delete leaves the DPU as it is`,
              );
              return;
            }
            await deleteHost(props);
            claim.release(system);
          },
        ),
      undefined,
      { action: "delete", props },
    );
  },
};

/** The default DpuHost provider (shared SSH pool, plain BMC clients), built by {@link createDpuHostProvider}. */
export const dpuHost: pulumi.dynamic.ResourceProvider = createDpuHostProvider();

/**
 * Runs `fn` holding the claim `req` describes; the operation's locks are let go when it ends, and a claim a
 * failed create recorded without leaving a resource (no partial state) is withdrawn.
 */
async function claimed<T>(
  req: ClaimRequest,
  fn: (claim: ReturnType<typeof beginClaim>) => Promise<T>,
): Promise<T> {
  const claim = beginClaim(req);
  let failedWithoutResource = false;
  try {
    return await fn(claim);
  } catch (err) {
    failedWithoutResource = req.action === "create" && typeof (err as { id?: unknown })?.id !== "string";
    throw err;
  } finally {
    claim.end(failedWithoutResource);
  }
}

/** update(): re-image, resume a partial install, reconcile power and media, or record new settings. */
async function updateHost(inputs: DpuHostInputs, olds: DpuHostOutputs, id: string): Promise<DpuHostOutputs> {
  const log = scope(inputs);
  const d = diffInputs(
    olds as unknown as Record<string, unknown>,
    inputs as unknown as Record<string, unknown>,
    DPU_HOST_INPUT_KEYS,
    dpuHostFieldRules,
  );
  // A new identity travels with an install (its seed is read at first boot): it reprovisions like an image.
  const imageChanged = d.changed.some((c) => /^(image|identity)(\.|$)/.test(c.path) && !c.noHardwareAction);
  if (imageChanged) {
    await checkPlatform(inputs);
    const operatingMode = await modeBeforeInstall(inputs, olds, log);
    const done = await withFirmware(inputs, await provision(inputs, olds, log), id, olds);
    return operatingMode ? { ...done, operatingMode } : done;
  }
  // A partial resource (a create or reprovision that failed after touching the BMC; the engine calls
  // update for a resource with init errors even when nothing changed): resume the install from what the
  // BMC and the DPU show, then eject and record the image and the host key.
  const unfinished = installUnfinished(olds, inputs);
  if (unfinished) {
    log.info(`the last install did not finish (${unfinished}); resuming it`);
    await checkPlatform(inputs);
    const operatingMode = await modeBeforeInstall(inputs, olds, log);
    const done = await withFirmware(inputs, await provision(inputs, olds, log), id, olds);
    return operatingMode ? { ...done, operatingMode } : done;
  }
  // A firmware expectation the state does not meet (a new one, or a partial resource left by a mismatch) is
  // checked against the BMC again: the next `up` fails as clearly as the install did, or records the match.
  const expected = inputs.image.expectFirmware;
  if (expected && firmwareMismatches(expected, olds.firmware ?? {}).length > 0) {
    olds = await withFirmware(inputs, { ...olds, ...inputs }, id, olds);
  }
  // A mode change alone (issue 17 items 3 and 6): NVIDIA's sequence, with the host power cycle host.policy allows.
  // A change left waiting for a host power cycle is completed once host.policy powerCycle allows it.
  const cycleNowAllowed =
    olds.operatingMode?.hostPowerCyclePending !== undefined && inputs.host?.policy === "powerCycle";
  if ((d.changed.some((c) => c.path === "mode") || cycleNowAllowed) && inputs.mode) {
    const target = { systemPath: olds.discovery.systemPath, systemId: olds.systemId };
    const operatingMode = await applyMode(inputs, target, olds, log);
    olds = { ...olds, ...(operatingMode ? { operatingMode } : {}) };
    if (!d.changed.some((c) => !c.noHardwareAction && c.path !== "mode")) return { ...olds, ...inputs };
    const outs = await reconcile(inputs, olds);
    return operatingMode ? { ...outs, operatingMode } : outs;
  }
  const hardware = d.changed.some((c) => !c.noHardwareAction);
  if (!hardware) {
    // Credential rotation and wait settings: nothing to do on the DPU.
    return { ...olds, ...inputs };
  }
  return reconcile(inputs, olds);
}

/**
 * Issue 17 item 2: an `image.platform` other than the generation the BMC reports is refused before provisioning
 * sends anything that changes state (reads only: the chassis, then the systems).
 */
async function checkPlatform(inputs: DpuHostInputs): Promise<void> {
  const declared = inputs.image.platform;
  if (!declared) return;
  const client = bmcClient(inputs);
  try {
    const refusal = platformRefusal(declared, await readPlatform(client), client.origin);
    if (refusal) throw refusal;
  } finally {
    await client.close();
  }
}

/**
 * What the last install recorded about the firmware inventory (and an update it staged for the next reset), kept
 * across an update that reads none.
 */
function keepFirmware(outs: DpuHostOutputs, olds: DpuHostOutputs): DpuHostOutputs {
  const path = olds.discovery.firmwareInventoryPath;
  return {
    ...outs,
    ...(olds.firmware ? { firmware: olds.firmware } : {}),
    ...(olds.pendingActivation ? { pendingActivation: olds.pendingActivation } : {}),
    ...(path ? { discovery: { ...outs.discovery, firmwareInventoryPath: path } } : {}),
  };
}

/**
 * Issue 17 item 4: after an install, the firmware versions the BMC's FirmwareInventory reports (output
 * `firmware`) and its path (kept for read()); a version other than `image.expectFirmware` declares fails the
 * install as a partial resource (the DPU runs the image) naming the component, the expected and the reported.
 */
async function withFirmware(
  inputs: DpuHostInputs,
  outs: DpuHostOutputs,
  id: string,
  olds?: DpuHostOutputs,
): Promise<DpuHostOutputs> {
  const client = bmcClient(inputs);
  let result = outs;
  try {
    const path = olds?.discovery.firmwareInventoryPath ?? (await findFirmwareInventory(client));
    const read = path ? await readInventory(client, path, { followLinks: true }) : undefined;
    const versions = read?.versions;
    result = {
      ...outs,
      ...(versions ? { firmware: versions } : {}),
      // A staged update: the DPU_OS version still active and what the BMC lists as staged.
      ...(outs.pendingActivation
        ? { pendingActivation: withInventory(outs.pendingActivation, versions, read?.staged) }
        : {}),
      ...(path ? { discovery: { ...outs.discovery, firmwareInventoryPath: path } } : {}),
    };
  } catch (err) {
    if (!inputs.image.expectFirmware) {
      scope(inputs).info(`firmware inventory not read (${err instanceof Error ? err.message : String(err)})`);
      return olds ? keepFirmware(outs, olds) : outs;
    }
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { id, properties: outs });
  } finally {
    await client.close();
  }
  // Checked once the image runs: a staged update (pendingActivation) still reports the old firmware.
  const expected = result.pendingActivation ? undefined : inputs.image.expectFirmware;
  const mismatches = expected ? firmwareMismatches(expected, result.firmware ?? {}) : [];
  if (mismatches.length > 0) {
    const err = firmwareMismatchError(client.origin, mismatches);
    throw Object.assign(err, { id, properties: result, reasons: [err.message] });
  }
  return result;
}

/** The capabilities kept in state, when they fit (the same slot asked for); undefined: discover. */
function keptFor(props: DpuHostOutputs, virtualMediaId: string | undefined): KeptCapabilities | undefined {
  const kept = props.discovery.kept;
  if (!isKeptCapabilities(kept) || kept.systemPath !== props.discovery.systemPath) return undefined;
  if (virtualMediaId && kept.slot?.id !== virtualMediaId && !kept.slot?.path.endsWith(`/${virtualMediaId}`))
    return undefined;
  return kept;
}

/** Ejects the media this resource inserted and clears a boot override still set. */
async function deleteHost(props: DpuHostOutputs): Promise<void> {
  const inputs = parse(props);
  await withBmcLock(inputs.bmc.endpoint, async () => {
    const client = bmcClient(inputs);
    try {
      // The capabilities kept in state: the system's read tells whether it still exists; otherwise discovery
      // (the paths kept in state read directly) does.
      const kept = keptFor(props, undefined);
      const slotKept = props.discovery.slotPath ? { slotPath: props.discovery.slotPath } : {};
      if (kept) client.useSessionsPath(kept.sessionsPath);
      const caps = kept
        ? capabilitiesFromKept(kept, { inserted: false })
        : await discover(client, {
            systemId: props.discovery.systemPath,
            ...slotKept,
            minimalReads: true,
          }).catch((err: unknown) => {
            if ((err as { code?: unknown }).code === "DPU_REDFISH_DISCOVERY") return undefined;
            throw err;
          });
      if (!caps) return;
      const sys = await readSystem(client, caps.systemPath);
      if (!sys) return;
      const slot = caps.virtualMedia.slots.find((s) => s.path === props.discovery.slotPath);
      if (props.discovery.method === "virtualMedia" && slot) {
        // Only the images this resource inserted: the installed one and, for a partial resource (a create or
        // re-image that stopped after staging), the one its last run staged. Media someone else put in stays.
        const staged = props.installPending?.method === "virtualMedia" ? props.installPending.url : undefined;
        let cur = slot;
        for (const ours of new Set([staged, props.installedImage?.url ?? props.image.url])) {
          if (ours === undefined) continue;
          // The state the first eject read (or left) is current for the second. A slot that is gone (404)
          // holds nothing of ours.
          const next = await ejectMedia(client, cur, {
            timeoutMs: 60_000,
            onlyImage: ours,
            fresh: cur !== slot,
          }).catch((err: unknown) => {
            if (isRedfishHttpError(err) && err.status === 404) return undefined;
            throw err;
          });
          if (!next) break;
          cur = next;
        }
      }
      // A partial install may have left its NoCloud seed (secrets) in a second slot: that seed only, by its digest.
      if (props.installPending && props.identitySeed?.kind === "cidata") {
        await ejectLeftSeedOn(client, caps.systemPath, props.identitySeed, scope(props));
      }
      // Only the one-time override this resource's method sets; an override it never set stays. (The system was
      // read before the eject, which does not change the override.)
      if (overrideIsOurs(sys, props.discovery.method)) {
        await clearBootOverride(client, caps);
      }
    } finally {
      await client.close();
    }
  });
  // And from the upload stage, where a killed install left it (the seed holds secrets).
  await removeLeftStagedSeed({ ...props, stage: inputs.stage }, scope(props));
  // A staged update outlives the resource: Redfish has no request to unstage it, so the operator is told.
  const staged = props.pendingActivation;
  if (staged)
    scope(props).info(
      `delete: the BMC still holds ${staged.url} staged (image.applyTime OnReset) and not activated: the DPU's next reset installs it${staged.activeVersion ? ` over DPU_OS ${staged.activeVersion}, which runs now` : ""}; DpuHost cannot unstage it`,
    );
}
