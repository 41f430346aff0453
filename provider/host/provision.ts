import { DpuError, isDpuError } from "../errors/dpu-error";
import { ValidationError } from "../errors/validation-error";
import { pollUntil } from "../lifecycle/wait";
import { type Logger, publicUrl } from "../log";
import {
  type BmcCapabilities,
  type BootMethod,
  capabilitiesFromKept,
  clearBootOverride,
  describeSystems,
  discoverWithSystem,
  ejectMedia,
  insertMedia,
  isKeptCapabilities,
  type KeptCapabilities,
  keepCapabilities,
  mediaShows,
  osRunning,
  overrideIsOurs,
  parseSystem,
  type RedfishClient,
  readFirmwareVersion,
  readSystem,
  resetSystem,
  type SystemState,
  sameImage,
  setBootOnce,
  simpleUpdate,
  simpleUpdateRefusal,
  withBmcLock,
} from "../redfish";
import { checkImage } from "../redfish/image-check";
import { bmcClient, bmcCredentials, dpuHostId, sshTargetOf } from "./context";
import {
  applyTimeRefusal,
  bfbStallStage,
  bfbStallWords,
  defersUpdate,
  leavesResetToOperator,
  pendingActivationOf,
} from "./deferred-update";
import { prepareIdentity } from "./identity";
import type {
  BootObservation,
  DpuHostInputs,
  DpuHostOutputs,
  InstalledImage,
  InstallPending,
} from "./inputs.schema";
import { keepsStartedBoot, redoWords } from "./install-state";
import { rememberBootProgress } from "./known-bmcs";
import { ejectLeftSeed, removeLeftStagedSeed } from "./seed-cleanup";
import { type DpuOsFacts, imageShaOf, probeDpuOs } from "./ssh-probe";

/** Why `method` cannot install `url` on this BMC, or undefined when it can. */
function methodRefusal(caps: BmcCapabilities, method: BootMethod, url: string): string | undefined {
  if (!caps.methods.includes(method)) return caps.unavailable?.[method] ?? "not offered by this BMC";
  const scheme = new URL(url).protocol;
  if (method !== "simpleUpdate" && scheme !== "http:" && scheme !== "https:")
    return `image.url is ${scheme}//, which only simpleUpdate can use (${method} needs http:// or https://)`;
  return method === "simpleUpdate"
    ? (simpleUpdateRefusal(caps, url) ?? bundleOnlyRefusal(caps, url))
    : undefined;
}

/**
 * A BlueField BMC's SimpleUpdate writes the image to the DPU's RShim boot stream as a BFB bundle (NVIDIA BlueField
 * BMC, "Deploying Software Using BFB": target `FirmwareInventory/DPU_OS`); an ISO handed to it fails in the BMC's
 * task, after the BMC was touched. Knowable from the image and discovery, so refused before any request.
 */
function bundleOnlyRefusal(caps: BmcCapabilities, url: string): string | undefined {
  if (isBundleImage(url) || !/\.iso$/i.test(new URL(url).pathname)) return undefined;
  const bfb = caps.update.osTargets.find((t) => /\/DPU_OS$/.test(t));
  return bfb
    ? `SimpleUpdate on this BMC installs BlueField BFB bundles into ${bfb}, and image.url is an ISO; use a .bfb image (or a boot method the BMC offers)`
    : undefined;
}

/** For a system that cannot boot from an override: the systems that can, so the user can set bmc.systemId. */
function systemHint(caps: BmcCapabilities): string {
  if (caps.boot.present || !caps.systemsSeen) return "";
  const others = caps.systemsSeen.filter((s) => s.canBoot && s.path !== caps.systemPath);
  return others.length > 0
    ? `. Systems on this BMC: ${describeSystems(caps.systemsSeen)}; set bmc.systemId if one of those is the DPU`
    : "";
}

/**
 * Chooses the install method: the input, else by image kind and BMC support. Refuses (before any request that
 * changes state) with the reason of each method when none fits: what the BMC lacks, or the SimpleUpdate
 * TransferProtocol values it allows.
 */
export function chooseMethod(inputs: DpuHostInputs, caps: BmcCapabilities): BootMethod {
  const url = inputs.image.url;
  const want = inputs.image.method;
  if (want) {
    const why = methodRefusal(caps, want, url);
    if (why) {
      const usable = caps.methods.filter((m) => !methodRefusal(caps, m, url));
      throw new DpuError(
        "DPU_REDFISH_UNSUPPORTED",
        `image.method ${want} cannot be used: ${why}; usable here: ${usable.join(", ") || "nothing DpuHost can use"}${systemHint(caps)}`,
      );
    }
    return want;
  }
  // A vendor bundle (BlueField BFB) is installed by SimpleUpdate; a bootable image (ISO) is booted through
  // virtual media, else UEFI HTTP boot, and only as a last resort handed to SimpleUpdate.
  const isBundle = isBundleImage(url);
  const order: readonly BootMethod[] = isBundle
    ? ["simpleUpdate", "virtualMedia", "uefiHttp"]
    : ["virtualMedia", "uefiHttp", "simpleUpdate"];
  const method = order.find((m) => !methodRefusal(caps, m, url));
  if (!method) {
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `no install method fits: ${order.map((m) => `${m}: ${methodRefusal(caps, m, url)}`).join("; ")}${systemHint(caps)}`,
    );
  }
  return method;
}

/** A vendor bundle (BlueField BFB), which SimpleUpdate installs, rather than a bootable image. */
function isBundleImage(url: string): boolean {
  return /\.bfb(\?|$)/i.test(new URL(url).pathname);
}

/**
 * Whether SimpleUpdate could be the method for these inputs before another usable one: asked for, or a bundle
 * with no method set. Otherwise discovery reads the UpdateService only when no boot method is usable.
 */
function mayPreferSimpleUpdate(inputs: DpuHostInputs): boolean {
  const want = inputs.image.method;
  return (
    want === "simpleUpdate" || (want === undefined && isBundleImage(inputs.image.url)) || defersUpdate(inputs)
  );
}

/**
 * True when a system state read before staging still tells what the reset needs (power state, the BootProgress
 * time of the last boot): power Off, or the OS running (or no BootProgress to move). A boot under way may move
 * BootProgress during the staging, so it is read again right before the reset.
 */
function settled(sys: SystemState, caps: BmcCapabilities): boolean {
  return (
    sys.powerState === "Off" ||
    !caps.bootProgress.supported ||
    sys.bootProgress === undefined ||
    osRunning(sys.bootProgress)
  );
}

/**
 * Why nothing could observe the new boot, or undefined when something can: BootProgress that changes after the
 * reset (the BMC shows it and `ready.bootProgress` is on), or the SSH probe (`ready.ssh`). Without either,
 * "ready" would mean power On, which holds right after the reset: media would be ejected and the install
 * recorded before anything saw a boot.
 */
export function readinessRefusal(
  inputs: Pick<DpuHostInputs, "ready">,
  bootProgressSupported: boolean,
  where: string,
): string | undefined {
  if (inputs.ready.ssh) return undefined;
  if (bootProgressSupported && inputs.ready.bootProgress) return undefined;
  const cause = !bootProgressSupported ? `${where} shows no BootProgress` : "ready.bootProgress is false";
  return `${cause}, so nothing could observe the DPU boot the image; declare ready.ssh (the DPU OS's SSH address) so the boot can be proved over SSH`;
}

/** Builds outputs from observations. */
export function buildOutputs(
  inputs: DpuHostInputs,
  caps: Pick<BmcCapabilities, "systemPath" | "systemId" | "boot" | "bootProgress" | "firmwareVersion"> & {
    slotPath?: string;
    kept?: KeptCapabilities;
  },
  method: BootMethod,
  sys: SystemState,
  facts: DpuOsFacts | undefined,
  installed: InstalledImage | undefined,
  prior?: DpuHostOutputs,
): DpuHostOutputs {
  const firmware = caps.firmwareVersion ?? prior?.bmcFirmwareVersion;
  const fp = facts?.hostKeyFingerprint ?? prior?.hostKeyFingerprint;
  return {
    ...inputs,
    systemId: caps.systemId,
    discovery: {
      systemPath: caps.systemPath,
      ...(caps.slotPath ? { slotPath: caps.slotPath } : {}),
      ...(caps.boot.settingsPath ? { settingsPath: caps.boot.settingsPath } : {}),
      method,
      bootProgressSupported: caps.bootProgress.supported,
      ...(caps.kept ? { kept: caps.kept } : {}),
    },
    ...(sys.manufacturer ? { manufacturer: sys.manufacturer } : {}),
    ...(sys.model ? { model: sys.model } : {}),
    ...(sys.serialNumber ? { serialNumber: sys.serialNumber } : {}),
    ...(sys.uuid ? { uuid: sys.uuid } : {}),
    ...(firmware ? { bmcFirmwareVersion: firmware } : {}),
    powerState: sys.powerState,
    ...(sys.bootProgress ? { bootProgress: sys.bootProgress } : {}),
    ...(installed ? { installedImage: installed } : {}),
    macs: facts?.macs ?? prior?.macs ?? {},
    osRelease: facts?.osRelease ?? prior?.osRelease ?? {},
    ...(fp ? { hostKeyFingerprint: fp } : {}),
  };
}

/** Probes SSH until the DPU OS answers (after a reset), bounded by `timeoutMs`. */
async function waitSsh(
  inputs: DpuHostInputs,
  pinned: string | undefined,
  timeoutMs: number,
  log: Logger,
  untilSha?: string,
): Promise<DpuOsFacts | undefined> {
  const target = sshTargetOf(inputs, pinned);
  if (!target) return undefined;
  let first = true;
  return pollUntil(
    async () => {
      const facts = await probeDpuOs(target, first);
      first = false;
      const sha = imageShaOf(facts.osRelease);
      // Where SSH is the only witness of the boot, the old OS answering (the reset not applied yet) is not it.
      if (untilSha !== undefined && sha !== untilSha) {
        return {
          done: false,
          value: facts,
          status: `SSH answers, but the running image is ${sha ? `sha256 ${sha.slice(0, 12)}…` : "unmeasured"} (IMAGE_ID ${facts.osRelease.IMAGE_ID ?? "?"}), not the expected sha256 ${untilSha.slice(0, 12)}…`,
        };
      }
      return { done: true, value: facts, status: `SSH up, IMAGE_ID=${facts.osRelease.IMAGE_ID ?? "?"}` };
    },
    {
      what: `SSH on ${target.host}:${target.port}`,
      timeoutMs,
      intervalMs: 500,
      onProgress: (l) => log.info(l),
      transient: (err) => !(isDpuError(err) && err.code === "DPU_SSH_HOST_KEY_MISMATCH"),
    },
  );
}

/** `10:02:11` from an ISO time (the BMC's LastStateTime or ours), or the text as it is. */
function clock(t: string | undefined): string {
  if (!t) return "no LastStateTime";
  const m = /T(\d{2}:\d{2}:\d{2})/.exec(t);
  return m?.[1] ?? t;
}

/** Options of {@link waitBooted}. */
export interface BootWait {
  /** When the reset (or the self-rebooting install) was started, ms since the epoch. */
  readonly resetAt: number;
  /** The image's sha256: where SSH is the only witness, it must show this image. */
  readonly expectedSha?: string;
  /** Called with the system once the boot itself is seen done (before the SSH probe). */
  readonly onBooted?: (sys: SystemState) => void;
}

/**
 * Waits for the new boot and says how it was observed: BootProgress that changed after the reset (a
 * LastStateTime other than before the reset, or a new state sequence through a non-running state) and reached
 * the OS, and/or the SSH probe (which must see the expected image when BootProgress cannot tell). A timeout
 * says what stood still ("BootProgress stayed OsIsRunning (10:02:11), older than the reset at 10:02:15").
 * Exported for tests.
 */
export async function waitBooted(
  client: RedfishClient,
  caps: BmcCapabilities,
  inputs: DpuHostInputs,
  before: SystemState,
  log: Logger,
  wait: BootWait,
): Promise<{ sys: SystemState; facts?: DpuOsFacts; observedBy?: BootObservation }> {
  const start = Date.now();
  const useProgress = inputs.ready.bootProgress && caps.bootProgress.supported;
  const resetClock = clock(new Date(wait.resetAt).toISOString());
  let sawTransition = false;
  const sys = await pollUntil(
    async () => {
      const cur = await readSystem(client, caps.systemPath);
      if (!cur)
        throw new DpuError(
          "DPU_REDFISH_GONE",
          `wait for boot: system ${caps.systemPath} disappeared from BMC ${client.origin}`,
        );
      if (
        (cur.bootProgressTime !== undefined && cur.bootProgressTime !== before.bootProgressTime) ||
        (cur.bootProgress !== undefined && !osRunning(cur.bootProgress))
      )
        sawTransition = true;
      const done =
        cur.powerState === "On" && (!useProgress || (sawTransition && osRunning(cur.bootProgress)));
      const progress = cur.bootProgress ?? "n/a";
      const status = !useProgress
        ? `power ${cur.rawPowerState}`
        : sawTransition
          ? `power ${cur.rawPowerState}, BootProgress ${progress} (${clock(cur.bootProgressTime)}) since the reset at ${resetClock}`
          : cur.bootProgressTime !== undefined
            ? `power ${cur.rawPowerState}, BootProgress stayed ${progress} (${clock(cur.bootProgressTime)}), older than the reset at ${resetClock}`
            : `power ${cur.rawPowerState}, BootProgress stayed ${progress} (no LastStateTime) since before the reset at ${resetClock}`;
      return { done, value: cur, status };
    },
    {
      what: `DPU ${caps.systemId} to boot`,
      timeoutMs: inputs.ready.timeoutMs,
      intervalMs: 300,
      onProgress: (l) => log.info(l),
    },
  );
  wait.onBooted?.(sys);
  const left = Math.max(1000, inputs.ready.timeoutMs - (Date.now() - start));
  const facts = await waitSsh(inputs, undefined, left, log, useProgress ? undefined : wait.expectedSha);
  const observedBy: BootObservation | undefined = useProgress
    ? facts
      ? "bootProgressAndSsh"
      : "bootProgress"
    : facts
      ? "ssh"
      : undefined;
  return { sys, ...(facts ? { facts } : {}), ...(observedBy ? { observedBy } : {}) };
}

/** `imageCredentials` for the Redfish operations, from image.username / image.password. */
export function imageCredentials(inputs: Pick<DpuHostInputs, "image">): {
  imageCredentials?: { username: string; password?: string };
} {
  const { username, password } = inputs.image;
  return username ? { imageCredentials: { username, ...(password ? { password } : {}) } } : {};
}

/** Measures what is needed before any hardware action: the image is reachable and (if asked) has the right sha256. */
async function preflight(inputs: DpuHostInputs): Promise<string | undefined> {
  const creds = bmcCredentials(inputs);
  // scp:// and sftp:// images are fetched by the BMC only: nothing here can measure them.
  if (!/^https?:$/.test(new URL(inputs.image.url).protocol)) return inputs.image.sha256;
  const caCert = inputs.image.caCert ?? creds.caCert;
  // image.username / image.password reach the check as userinfo (in memory only; messages strip it).
  const checked = new URL(inputs.image.url);
  if (inputs.image.username) {
    checked.username = encodeURIComponent(inputs.image.username);
    checked.password = encodeURIComponent(inputs.image.password ?? "");
  }
  const r = await checkImage(checked.href, {
    measure: inputs.image.sha256 !== undefined || inputs.ready.ssh !== undefined,
    ...(inputs.image.sha256 ? { sha256: inputs.image.sha256 } : {}),
    ...(caCert ? { caCert } : {}),
    insecureSkipVerify: inputs.bmc.insecureSkipVerify,
    timeoutMs: inputs.image.timeoutMs,
  });
  return r.sha256;
}

/**
 * Provisions (create, or update with a new image): the canonical sequence. Adopts a DPU that already runs the
 * requested image (proved by os-release over SSH) without reflashing, which also makes a re-run after an
 * interrupted create converge.
 */
export async function provision(
  inputs: DpuHostInputs,
  prior: DpuHostOutputs | undefined,
  log: Logger,
  claim?: { bind(system: string): void },
): Promise<DpuHostOutputs> {
  const expectedSha = await preflight(inputs);
  // A seed volume a killed install left on its upload stage goes first (this run may upload the same one again).
  if (prior) await removeLeftStagedSeed(prior, log);
  // The identity's seed is built and staged before anything is sent to the BMC (a stage it cannot reach fails here).
  const identity = await prepareIdentity(inputs, prior, log);
  // The NoCloud seed a stopped install may have left in a slot, when this run does not deliver the same one: it
  // is ejected (by its digest) before anything else, whatever this run then does.
  const leftSeed =
    prior?.installPending &&
    prior.identitySeed?.kind === "cidata" &&
    prior.identitySeed.sha256 !== identity?.staged.seedSha256
      ? prior.identitySeed
      : undefined;
  return withBmcLock(inputs.bmc.endpoint, async () => {
    const client = bmcClient(inputs);
    let id: string | undefined;
    let partial: DpuHostOutputs | undefined;
    let method: BootMethod | undefined;
    let stage: InstallPending["stage"] = "staging";
    let bootBefore: string | undefined;
    /** SimpleUpdate: the BMC's task finished (the image was transferred); where a stall happened after it. */
    let taskDone = false;
    let systemPath: string | undefined;
    /** The system's Id once discovery found it: errors carry it (`dpuSystemId`) for the provider's prefix. */
    let systemName: string | undefined;
    /** The left seed until it is ejected: a failure before keeps its record in the partial state. */
    let seedLeft = leftSeed;
    /** The system when the boot wait saw the new boot done (power, BootProgress), before the SSH probe. */
    let osBoot: SystemState | undefined;
    try {
      // The state of a finished install says which image runs: when it is another one (a plain re-image), the
      // old OS is not probed over SSH (nothing to adopt). A create without state, or a partial one, probes.
      const pending = prior?.installPending;
      if (pending) bootBefore = pending.bootProgressTimeBefore;
      const otherImageRecorded =
        prior !== undefined &&
        pending === undefined &&
        prior.installedImage?.sha256 !== undefined &&
        prior.installedImage.sha256 !== expectedSha;
      // An identity is delivered by an install: a DPU running the image is not adopted without its seed.
      const provable =
        expectedSha !== undefined && inputs.ready.ssh !== undefined && !otherImageRecorded && !identity;
      // A plain re-image uses the targets kept in state: no discovery, no read of the system before staging.
      const fromState = provable || identity || leftSeed ? undefined : keptCapabilitiesFor(inputs, prior);
      // Otherwise: the system path kept in state is read directly (no list of systems); the UpdateService is
      // read only when SimpleUpdate may be the method; the system read here is not read again below.
      const systemId = prior?.discovery?.systemPath ?? inputs.bmc.systemId;
      const want = inputs.bmc.virtualMediaId;
      // An identity needs every slot read (the seed goes in a second one), not only the one kept in state; so
      // does a seed left by a stopped install.
      const keptSlot =
        !identity &&
        !leftSeed &&
        prior?.discovery?.slotPath &&
        (!want || prior.discovery.slotPath.endsWith(`/${want}`))
          ? prior.discovery.slotPath
          : undefined;
      const found = fromState
        ? undefined
        : await discoverWithSystem(client, {
            ...(systemId ? { systemId } : {}),
            ...(inputs.bmc.virtualMediaId ? { virtualMediaId: inputs.bmc.virtualMediaId } : {}),
            ...(keptSlot ? { slotPath: keptSlot } : {}),
            updateServiceOnlyAsFallback: !mayPreferSimpleUpdate(inputs),
            minimalReads: true,
          });
      if (fromState) client.useSessionsPath(fromState.caps.sessionsPath);
      const caps = fromState?.caps ?? (found as NonNullable<typeof found>).caps;
      id = dpuHostId(inputs.bmc.endpoint, caps.systemPath);
      systemName = caps.systemId;
      // One writer per DPU: the system found is held (and its owner recorded) before anything changes on it.
      claim?.bind(caps.systemId);
      rememberBootProgress(
        inputs.bmc.endpoint,
        {
          systemId: caps.systemId,
          systemPath: caps.systemPath,
          ...(inputs.bmc.systemId ? { requested: inputs.bmc.systemId } : {}),
        },
        caps.bootProgress.supported,
      );
      method = fromState?.method ?? chooseMethod(inputs, caps);
      // The seed travels with this method (a second slot for the NoCloud volume, SimpleUpdate of the staged BFB).
      const seedSlot = identity?.check(method, caps, client.origin);
      // Before any request that changes state: something must be able to see the DPU boot the image.
      const unobservable = readinessRefusal(
        inputs,
        caps.bootProgress.supported,
        `system ${caps.systemId} on BMC ${client.origin}`,
      );
      if (unobservable)
        throw new ValidationError("DpuHost", [{ property: "ready.ssh", reason: unobservable }]);
      // Before any request that changes state: an apply time the BMC does not advertise (issue 17 item 5).
      const deferral = applyTimeRefusal(inputs, caps, method);
      if (deferral) throw new ValidationError("DpuHost", [{ property: "image.applyTime", reason: deferral }]);
      systemPath = caps.systemPath;
      const slot = method === "virtualMedia" ? caps.virtualMedia.chosen : undefined;
      let capsOut = {
        ...caps,
        ...(slot ? { slotPath: slot.path } : {}),
        kept: fromState?.kept ?? keepCapabilities(caps),
      };
      // Without discovery, the system is known from state until the boot-override PATCH (or a read) tells more.
      let sys = found ? parseSystem(found.system) : systemFromState(prior as DpuHostOutputs);
      const staleAfterStaging = !found || !settled(sys, caps);
      partial = buildOutputs(inputs, capsOut, method, sys, undefined, prior?.installedImage, prior);
      if (leftSeed) {
        await ejectLeftSeed(client, caps.virtualMedia.slots, leftSeed, log);
        seedLeft = undefined;
      }

      // Adoption: the DPU already runs the requested image. A boot under way (a re-run after the provider was
      // killed mid-provisioning) is waited for; a boot stuck before the OS (a failed boot) is not probed over SSH.
      if (sys.powerState === "On" && provable && caps.bootProgress.supported) {
        sys = await waitBootSettles(client, caps, sys, log);
      }
      const osMayRun =
        !caps.bootProgress.supported || sys.bootProgress === undefined || osRunning(sys.bootProgress);
      if (sys.powerState === "On" && provable && osMayRun) {
        const facts = await waitSsh(inputs, prior?.hostKeyFingerprint, 15_000, log).catch(() => undefined);
        if (facts && imageShaOf(facts.osRelease) === expectedSha) {
          log.info(
            `DPU already runs ${inputs.image.url} (sha256 ${expectedSha.slice(0, 12)}…); adopting it without reflashing`,
          );
          stage = "finishing";
          const installed: InstalledImage =
            prior?.installedImage?.sha256 === expectedSha
              ? prior.installedImage
              : {
                  url: publicUrl(inputs.image.url),
                  sha256: expectedSha,
                  method,
                  installedAt: new Date().toISOString(),
                  observedBy: "ssh",
                };
          partial = buildOutputs(inputs, capsOut, method, sys, facts, installed, prior);
          if (
            slot &&
            !inputs.ejectAfterInstall &&
            !(slot.inserted && sameImage(slot.image, inputs.image.url))
          ) {
            await insertMedia(client, slot, inputs.image.url, {
              timeoutMs: inputs.image.timeoutMs,
              ...imageCredentials(inputs),
            });
          }
          await finish(client, caps, inputs, method, slot?.path, log);
          sys = (await readSystem(client, caps.systemPath)) ?? sys;
          sys = await applyPower(client, caps, inputs, sys, log);
          return buildOutputs(inputs, capsOut, method, sys, facts, installed, prior);
        }
      }

      // Resumption without proof over SSH: a partial resource says how far the install got; the BMC says the rest.
      // A boot staged with another seed (or with one this run no longer delivers) is not resumed: it would come up
      // with the old identity.
      const sameSeed = prior?.identitySeed?.sha256 === identity?.staged.seedSha256;
      let plan =
        !provable &&
        pending &&
        pending.method === method &&
        sameSeed &&
        sameImage(pending.url, publicUrl(inputs.image.url))
          ? resumePlan(pending, prior?.installedImage, sys, caps, slot, inputs.image.url)
          : undefined;
      // An install that stopped while the DPU booted (a BFB task that failed, a boot stuck before the OS, an OS
      // that never answered SSH) is not waited on: the BMC answers, the DPU may never. A boot still under way is
      // waited on until it settles and kept only when it reached the OS; otherwise the install is done again
      // (SimpleUpdate pushes the bundle again, NVIDIA: the BFB is re-pushed via RShim; virtual media is verified
      // or inserted again and the boot-once override set; UEFI HTTP sets its override again; then a reset).
      if (
        pending?.stage === "booting" &&
        pending.method === method &&
        (plan === "wait" || method === "simpleUpdate")
      ) {
        if (plan === "wait") sys = await waitBootSettles(client, caps, sys, log);
        if (plan !== "wait" || !keepsStartedBoot(pending, sys)) {
          plan = undefined;
          log.info(
            `the ${method === "simpleUpdate" ? "BFB install" : `${method} install`} the last run started did not bring the DPU up (BootProgress ${sys.bootProgress ?? "?"}); ${method === "simpleUpdate" ? "pushing the BFB again" : "installing again"}`,
          );
        }
      }
      if (plan === "finish" && prior?.installedImage) {
        log.info("the new OS already ran when the last run stopped; finishing the install");
        stage = "finishing";
        const facts = await waitSsh(inputs, prior.hostKeyFingerprint, inputs.ready.timeoutMs, log);
        partial = buildOutputs(inputs, capsOut, method, sys, facts, prior.installedImage, prior);
        await finish(client, caps, inputs, method, slot?.path, log);
        // The seed (it may hold secrets) leaves its slot whatever ejectAfterInstall says: the stage serving it is gone.
        if (identity && seedSlot) await identity.ejectSeed(client, seedSlot);
        sys = (await readSystem(client, caps.systemPath)) ?? sys;
        sys = await applyPower(client, caps, inputs, sys, log);
        return {
          ...buildOutputs(inputs, capsOut, method, sys, facts, prior.installedImage, prior),
          ...identity?.outputs(),
        };
      }

      let resetDone = false;
      let afterStaging: SystemState | undefined;
      /** The system as the boot-override PATCH answered it (the BMC's state right before the reset). */
      let patched: SystemState | undefined;
      /** The insert was sent without its own verification: the slot is read right after the reset instead. */
      let verifyAfterReset = false;
      let waitFrom: SystemState | undefined;
      let resetAt = Date.parse(pending?.at ?? "") || Date.now();
      if (plan === "wait") {
        log.info(
          `the DPU is booting the image the last run staged (BootProgress ${sys.bootProgress ?? "?"}); waiting for it`,
        );
        resetDone = true;
        waitFrom = { ...sys, ...(bootBefore !== undefined ? { bootProgressTime: bootBefore } : {}) };
      } else if (plan === "reset") {
        log.info("the image the last run staged is still in place and was not booted; resetting the DPU");
      } else {
        log.info(`provisioning system ${caps.systemId} with ${inputs.image.url} via ${method}`);
        if (method === "virtualMedia") {
          if (!slot)
            throw new DpuError(
              "DPU_REDFISH_UNSUPPORTED",
              `no usable virtual media slot on BMC ${client.origin}`,
            );
          if (identity && seedSlot) await identity.insertSeed(client, seedSlot, inputs.image.timeoutMs, log);
          // The slot as discovery read it moments ago, or as the state left it (media left in, or empty). Neither
          // the eject nor the insert is followed by a read: an insert refused because media is still in re-reads
          // the slot, and one GET right after the reset proves the image was in the slot (see below).
          const empty = await ejectMedia(client, slot, {
            timeoutMs: inputs.image.timeoutMs,
            fresh: true,
            verify: false,
          });
          await insertMedia(client, empty, inputs.image.url, {
            timeoutMs: inputs.image.timeoutMs,
            ...imageCredentials(inputs),
            onProgress: (l) => log.info(l),
            fresh: true,
            verify: false,
          });
          verifyAfterReset = true;
          patched = await setBootOnce(client, caps, "Cd");
        } else if (method === "uefiHttp") {
          patched = await setBootOnce(client, caps, "UefiHttp", inputs.image.url);
        } else {
          // The BMC reboots the DPU by itself: the BootProgress time before it is read now where discovery did
          // not read the system (kept capabilities), so the new boot is told from the old one.
          if (!found) sys = (await readSystem(client, caps.systemPath)) ?? sys;
          bootBefore = sys.bootProgressTime;
          stage = "booting";
          resetAt = Date.now();
          await simpleUpdate(
            client,
            caps,
            identity?.installUrl ?? inputs.image.url,
            inputs.image.simpleUpdateTarget,
            {
              timeoutMs: inputs.image.timeoutMs,
              ...(identity?.installUrl ? {} : imageCredentials(inputs)),
              onProgress: (l) => log.info(l),
              ...(inputs.image.scpHostKey ? { scpHostKey: inputs.image.scpHostKey } : {}),
              ...(defersUpdate(inputs) ? { applyTime: "OnReset" } : {}),
            },
          );
          taskDone = true;
          const after = await readSystem(client, caps.systemPath);
          // Deferred, reset left to the operator: the BMC holds the image; the DPU runs the old one until a reset.
          if (leavesResetToOperator(inputs)) {
            log.info(
              `the BMC staged ${publicUrl(inputs.image.url)} for the next reset of system ${caps.systemId} (image.activate nextReset): not resetting it`,
            );
            return {
              ...buildOutputs(inputs, capsOut, method, after ?? sys, undefined, prior?.installedImage, prior),
              ...identity?.outputs(),
              pendingActivation: pendingActivationOf(inputs, expectedSha, after ?? sys),
            };
          }
          // BlueField installs and reboots by itself; other BMCs stage the image until the next reset.
          // A deferred update (OnReset) waits for the reset below, whatever BootProgress did meanwhile.
          resetDone =
            !defersUpdate(inputs) &&
            after !== undefined &&
            (after.bootProgressTime !== sys.bootProgressTime || !osRunning(after.bootProgress));
          if (resetDone) waitFrom = sys;
          afterStaging = after;
        }
      }
      // Staging (insert, boot override) changes neither the power nor BootProgress: a settled state read before
      // it still holds, and the PATCH's answer, where it carries the system, is newer still. A boot under way,
      // a system known only from state, or SimpleUpdate (which may install on its own) is read again.
      let before =
        afterStaging ??
        patched ??
        (staleAfterStaging || method === "simpleUpdate"
          ? ((await readSystem(client, caps.systemPath)) ?? sys)
          : sys);
      if (!resetDone) {
        bootBefore = before.bootProgressTime;
        stage = "booting";
        resetAt = Date.now();
        const type = await resetSystem(client, caps, before.powerState, "restart");
        log.info(`reset system ${caps.systemId} with ${type}`);
      }
      if (verifyAfterReset && slot) {
        // The evidence that the DPU was reset with the image in the slot: the firmware chooses its boot device
        // seconds after the reset, and media does not leave the slot by itself. A BMC that answered the insert
        // without attaching the image (or kept other media in) is caught here: the boot just started is not the
        // image's, so the image is inserted again, verified by GET this time, and the DPU reset once more.
        const seen = await mediaShows(client, slot.path, inputs.image.url);
        if (!seen.shows) {
          log.info(
            `virtual media ${slot.id} shows ${seen.inserted ? (seen.image ?? "other media") : "nothing"} after the reset, not ${publicUrl(inputs.image.url)}: the BMC accepted the insert without attaching it; inserting again (verified) and resetting again`,
          );
          const empty = await ejectMedia(client, slot, { timeoutMs: inputs.image.timeoutMs });
          await insertMedia(client, empty, inputs.image.url, {
            timeoutMs: inputs.image.timeoutMs,
            ...imageCredentials(inputs),
            onProgress: (l) => log.info(l),
            fresh: true,
          });
          before =
            (await setBootOnce(client, caps, "Cd")) ?? (await readSystem(client, caps.systemPath)) ?? before;
          bootBefore = before.bootProgressTime;
          resetAt = Date.now();
          const type = await resetSystem(client, caps, before.powerState, "restart");
          log.info(`reset system ${caps.systemId} again with ${type}`);
        }
      }
      // The manager discovery did not need (the BMC's firmware version, an output): read while the DPU boots.
      if (!caps.firmwareVersion && caps.managerPath && !prior?.bmcFirmwareVersion) {
        const firmwareVersion = await readFirmwareVersion(client, caps.managerPath);
        if (firmwareVersion) capsOut = { ...capsOut, firmwareVersion };
      }
      // With a bf.cfg appended, the DPU installed the staged BFB; a generated host key is pinned from the start.
      const bootSha = identity?.installedSha256 ?? expectedSha;
      const booted = await waitBooted(
        client,
        caps,
        identity?.pinnedInputs ?? inputs,
        waitFrom ?? before,
        log,
        {
          resetAt,
          ...(bootSha ? { expectedSha: bootSha } : {}),
          onBooted: (s) => {
            osBoot = s;
          },
        },
      );
      const observedSha = booted.facts ? imageShaOf(booted.facts.osRelease) : undefined;
      if (booted.facts && bootSha && observedSha && observedSha !== bootSha) {
        throw new DpuError(
          "DPU_IMAGE_NOT_BOOTED",
          `the DPU booted an image with sha256 ${observedSha} (IMAGE_ID ${booted.facts.osRelease.IMAGE_ID ?? "?"}), not ${inputs.image.url} (${bootSha})`,
        );
      }
      const installed: InstalledImage = {
        url: publicUrl(inputs.image.url),
        ...((observedSha ?? bootSha) ? { sha256: (observedSha ?? bootSha) as string } : {}),
        method,
        installedAt: new Date().toISOString(),
        ...(booted.observedBy ? { observedBy: booted.observedBy } : {}),
      };
      stage = "finishing";
      partial = buildOutputs(inputs, capsOut, method, booted.sys, booted.facts, installed, prior);
      await finish(client, caps, inputs, method, slot?.path, log);
      // The seed (it may hold secrets) leaves its slot whatever ejectAfterInstall says: the stage serving it is gone.
      if (identity && seedSlot) await identity.ejectSeed(client, seedSlot);
      sys = (await readSystem(client, caps.systemPath)) ?? booted.sys;
      sys = await applyPower(client, caps, inputs, sys, log);
      return {
        ...buildOutputs(inputs, capsOut, method, sys, booted.facts, installed, prior),
        ...identity?.outputs(),
      };
    } catch (err) {
      // The resource's system, for the one prefix that names the action, the resource and the BMC (dpu-host.ts).
      if (systemName && err instanceof Error) Object.assign(err, { dpuSystemId: systemName });
      // A BFB install that stopped making progress says at which stage (transfer, install, boot).
      if (method === "simpleUpdate" && isDpuError(err) && err.code === "DPU_TIMEOUT") {
        const now = systemPath ? await readSystem(client, systemPath).catch(() => undefined) : undefined;
        err.message = `the BFB install stalled in ${bfbStallWords(bfbStallStage(taskDone, bootBefore, now))}: ${err.message}`;
      }
      if (id && partial && method) {
        let msg = err instanceof Error ? err.message : String(err);
        // An install that failed while the DPU booted (task, boot, SSH): say what the next `up` does, so nobody
        // waits on this DPU.
        if (stage === "booting") {
          msg += `; the ${method === "simpleUpdate" ? "BFB install" : "install"} did not bring the DPU up while its BMC answers: ${redoWords(method)}`;
          if (err instanceof Error) err.message = msg;
        }
        // A boot that reached the OS and still failed (SSH never answered, another image ran) is not waited on again.
        const failedBootTime =
          stage === "booting" && osBoot?.bootProgress && osRunning(osBoot.bootProgress)
            ? osBoot.bootProgressTime
            : undefined;
        const installPending: InstallPending = {
          url: publicUrl(inputs.image.url),
          method,
          stage,
          ...(bootBefore !== undefined ? { bootProgressTimeBefore: bootBefore } : {}),
          ...(failedBootTime !== undefined ? { failedBootTime } : {}),
          at: new Date().toISOString(),
        };
        throw Object.assign(err instanceof Error ? err : new Error(msg), {
          id,
          properties: {
            ...partial,
            ...(seedLeft ? { identitySeed: seedLeft } : {}),
            ...identity?.outputs(),
            installPending,
          },
          reasons: [msg],
        });
      }
      throw err;
    } finally {
      await client.close();
      await identity?.close();
    }
  });
}

/**
 * For a plain re-image (state of a finished install, SimpleUpdate in view only where the UpdateService was kept,
 * the same system and slot asked for): the capabilities kept in state, the slot as this resource left it, and the method they give. Undefined
 * when discovery is needed (state without kept capabilities, a partial install, another system or slot asked
 * for, or a method the kept capabilities do not offer: discovery then says what the BMC offers now).
 */
function keptCapabilitiesFor(
  inputs: DpuHostInputs,
  prior: DpuHostOutputs | undefined,
): { caps: BmcCapabilities; kept: KeptCapabilities; method: BootMethod } | undefined {
  const kept = prior?.discovery?.kept;
  if (!prior || prior.installPending || !isKeptCapabilities(kept)) return undefined;
  // SimpleUpdate is served from state only where the UpdateService was kept (a BFB installed by it before).
  if (kept.systemPath !== prior.discovery.systemPath || (mayPreferSimpleUpdate(inputs) && !kept.update))
    return undefined;
  const sysWant = inputs.bmc.systemId;
  if (sysWant && kept.systemPath !== sysWant && !kept.systemPath.endsWith(`/${sysWant}`)) return undefined;
  const vmWant = inputs.bmc.virtualMediaId;
  if (vmWant && kept.slot?.id !== vmWant && !kept.slot?.path.endsWith(`/${vmWant}`)) return undefined;
  const leftIn = prior.discovery.method === "virtualMedia" && prior.ejectAfterInstall === false;
  const image = prior.installedImage?.url ?? prior.image.url;
  const caps = capabilitiesFromKept(kept, { inserted: leftIn, ...(leftIn ? { image } : {}) });
  let method: BootMethod;
  try {
    method = chooseMethod(inputs, caps);
  } catch {
    return undefined;
  }
  return method === "simpleUpdate" && !kept.update ? undefined : { caps, kept, method };
}

/** The system as the state of the last run recorded it (until a read or the boot-override PATCH tells more). */
function systemFromState(prior: DpuHostOutputs): SystemState {
  return {
    powerState: prior.powerState === "Off" ? "Off" : "On",
    rawPowerState: prior.powerState,
    ...(prior.bootProgress ? { bootProgress: prior.bootProgress } : {}),
    override: { enabled: "Disabled", target: "None" },
    ...(prior.manufacturer ? { manufacturer: prior.manufacturer } : {}),
    ...(prior.model ? { model: prior.model } : {}),
    ...(prior.serialNumber ? { serialNumber: prior.serialNumber } : {}),
    ...(prior.uuid ? { uuid: prior.uuid } : {}),
  };
}

/**
 * How to resume a stopped install when nothing can prove over SSH which image runs, from what the BMC shows:
 * `finish` (the new OS ran; eject and record), `wait` (a boot started after the last run's reset: wait for it),
 * `reset` (the staged media and boot override are still in place and no new boot happened), or undefined
 * (start over).
 */
function resumePlan(
  pending: InstallPending,
  installed: InstalledImage | undefined,
  sys: SystemState,
  caps: BmcCapabilities,
  slot: BmcCapabilities["virtualMedia"]["chosen"],
  url: string,
): "finish" | "wait" | "reset" | undefined {
  const running = sys.powerState === "On" && (!caps.bootProgress.supported || osRunning(sys.bootProgress));
  if (pending.stage === "finishing" && installed && running) return "finish";
  if (pending.stage === "staging") return undefined;
  // The media must still hold the image (for virtual media) for any boot from it to count.
  if (pending.method === "virtualMedia" && !(slot?.inserted && sameImage(slot.image, url))) return undefined;
  const newBoot =
    caps.bootProgress.supported &&
    pending.bootProgressTimeBefore !== undefined &&
    sys.bootProgressTime !== pending.bootProgressTimeBefore;
  if (pending.stage === "booting" && newBoot) return "wait";
  const target =
    pending.method === "virtualMedia" ? "Cd" : pending.method === "uefiHttp" ? "UefiHttp" : undefined;
  if (
    pending.stage === "booting" &&
    target &&
    sys.override.enabled === "Once" &&
    sys.override.target === target
  ) {
    return "reset";
  }
  return undefined;
}

/** BootProgress unchanged this long counts as stuck (a failed boot), ms. */
const BOOT_STALL_MS = 5_000;
/** Longest wait for a boot under way before deciding about adoption, ms. */
const BOOT_SETTLE_MAX_MS = 20_000;

/**
 * Before adopting: when BootProgress shows a boot under way, waits until the OS runs, or until BootProgress has
 * not moved for {@link BOOT_STALL_MS} (stuck before the OS), at most {@link BOOT_SETTLE_MAX_MS}. Returns the
 * last system state seen.
 */
async function waitBootSettles(
  client: RedfishClient,
  caps: BmcCapabilities,
  sys: SystemState,
  log: Logger,
): Promise<SystemState> {
  if (sys.bootProgress === undefined || osRunning(sys.bootProgress)) return sys;
  let cur = sys;
  let lastChange = Date.now();
  const start = Date.now();
  log.info(
    `a boot is under way (BootProgress ${sys.bootProgress}); waiting for it before deciding to reflash`,
  );
  while (Date.now() - start < BOOT_SETTLE_MAX_MS && Date.now() - lastChange < BOOT_STALL_MS) {
    await new Promise((r) => setTimeout(r, 250));
    const next = await readSystem(client, caps.systemPath);
    if (!next) return cur;
    if (next.bootProgress !== cur.bootProgress || next.bootProgressTime !== cur.bootProgressTime) {
      lastChange = Date.now();
    }
    cur = next;
    if (osRunning(cur.bootProgress)) return cur;
  }
  return cur;
}

/** After the OS runs: eject (when asked) and clear a boot override still set. */
async function finish(
  client: RedfishClient,
  caps: BmcCapabilities,
  inputs: DpuHostInputs,
  method: BootMethod,
  slotPath: string | undefined,
  log: Logger,
): Promise<void> {
  const slot = caps.virtualMedia.chosen;
  if (method === "virtualMedia" && slot && slotPath === slot.path && inputs.ejectAfterInstall) {
    await ejectMedia(client, slot, { timeoutMs: 60_000, onlyImage: inputs.image.url });
  }
  if (method === "virtualMedia" || method === "uefiHttp") {
    const sys = await readSystem(client, caps.systemPath);
    // Only the one-time override this resource set (Cd / UefiHttp), never one set by someone else.
    if (sys && overrideIsOurs(sys, method)) {
      log.info(`clearing boot override ${sys.override.enabled}/${sys.override.target}`);
      await clearBootOverride(client, caps);
    }
  }
}

/** Brings the power to the desired steady state. */
export async function applyPower(
  client: RedfishClient,
  caps: BmcCapabilities,
  inputs: DpuHostInputs,
  sys: SystemState,
  log: Logger,
): Promise<SystemState> {
  if (sys.powerState === inputs.power) return sys;
  const type = await resetSystem(client, caps, sys.powerState, inputs.power === "On" ? "on" : "off");
  log.info(`power ${inputs.power} (${type})`);
  if (inputs.power === "On") {
    return (await waitBooted(client, caps, inputs, sys, log, { resetAt: Date.now() })).sys;
  }
  return pollUntil(
    async () => {
      const cur = await readSystem(client, caps.systemPath);
      return {
        done: cur?.powerState === "Off",
        value: cur ?? sys,
        status: `power ${cur?.rawPowerState ?? "?"}`,
      };
    },
    {
      what: `DPU ${caps.systemId} to power off`,
      timeoutMs: inputs.ready.timeoutMs,
      intervalMs: 300,
      onProgress: (l) => log.info(l),
    },
  );
}
