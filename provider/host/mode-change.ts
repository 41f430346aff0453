import { DpuError } from "../errors/dpu-error";
import { ValidationError } from "../errors/validation-error";
import { pollUntil } from "../lifecycle/wait";
import type { Logger } from "../log";
import { discover, osRunning, type RedfishClient, readSystem, withBmcLock } from "../redfish";
import { bmcClient } from "./context";
import { withHostServerLock } from "./host-power-journal";
import {
  type HostServer,
  type HostSystem,
  hostClient,
  hostCycleRefusal,
  powerCycleHost,
  readHostSystem,
  readPowerControl,
  reserveHostCycle,
  unknownPowerReason,
} from "./host-server";
import type { DpuHostInputs, DpuHostOutputs, OperatingModeOutput } from "./inputs.schema";
import { type DeclaredMode, type ModeReading, modeSetRefusal, readMode, setMode } from "./operating-mode";

/**
 * Modes of operation (issue 17 items 3 and 6), as NVIDIA documents the change for BlueField-3 (NVIDIA BlueField
 * BMC Software, "BlueField Modes of Operation Configuration", "Setting DPU Mode" / "Setting NIC Mode"):
 *   1. `POST <system>/Oem/Nvidia/Actions/Mode.Set` with the new Mode;
 *   2. reboot the Arm cores twice: over Redfish, "Hard Reset of BlueField Arm Cores" is ComputerSystem.Reset
 *      `ForceRestart` on the BlueField system ("Reset Control");
 *   3. power-cycle the BlueField from the host: the host server's own power cycle (its BMC), which `host.policy`
 *      allows (`powerCycle`), or leaves pending (`none`, `requireOff`).
 * In NIC mode the Arm cores run no OS (DOCA "BlueField Modes of Operation"; BMC "BlueField Arm State": the boot
 * ends at UEFI), so nothing can install or observe a DPU OS there.
 */

/** What NIC mode hides from DpuHost (output `operatingMode.unobservable`). */
export const NIC_MODE_UNOBSERVABLE: readonly string[] = [
  "the DPU OS (the Arm cores run no OS in NIC mode)",
  "the SSH probe (ready.ssh)",
  "BootProgress past UEFI",
];

/** The sequence a change to `want` follows, in one line (preview and progress). */
export function modeChangePlan(want: DeclaredMode, host: HostServer | undefined): string {
  const value = want === "dpu" ? "DpuMode" : "NicMode";
  const cycle = !host
    ? "a host power cycle left pending (no host block: DpuHost cannot reach the host server)"
    : host.policy === "powerCycle"
      ? `a power cycle of the host server through ${new URL(host.endpoint).origin} (host.policy powerCycle; the host is left in the power state it was found in)`
      : host.policy === "requireOff"
        ? "the host server must be Off (host.policy requireOff); the change completes when it is next powered on"
        : "a host power cycle left pending (host.policy none: nothing is sent to the host BMC)";
  return `mode ${want}: Mode.Set ${value}, two resets of the Arm cores (ComputerSystem.Reset ForceRestart), then ${cycle} (NVIDIA "BlueField Modes of Operation Configuration")`;
}

/** Reads the DPU's mode (system path from state or discovery). */
export async function observeMode(
  client: RedfishClient,
  systemPath: string,
): Promise<OperatingModeOutput & { readonly reading?: ModeReading }> {
  const reading = await readMode(client, systemPath);
  if (!reading)
    return { unreadable: "the BMC has no Oem/Nvidia resource on the system: not a BlueField BMC" };
  return {
    reading,
    ...(reading.reported ? { reported: reading.reported } : {}),
    ...(reading.unreadable ? { unreadable: reading.unreadable } : {}),
    ...(reading.reported === "nic" ? { unobservable: NIC_MODE_UNOBSERVABLE } : {}),
  };
}

/** Where a mode change runs: the DPU's system. */
export interface ModeTarget {
  readonly systemPath: string;
  readonly systemId: string;
}

/**
 * Why the install asked for cannot run in the mode declared, or undefined: an OS install needs the Arm cores,
 * which NIC mode turns off. Checked before any request.
 */
export function installModeRefusal(inputs: Pick<DpuHostInputs, "mode">): string | undefined {
  return inputs.mode === "nic"
    ? 'mode nic turns the BlueField\'s Arm cores off, so no DPU OS can be installed or observed booting (NVIDIA "BlueField Modes of Operation"); declare mode dpu for the install, then change mode to nic without changing the image'
    : undefined;
}

/**
 * Brings the DPU to `inputs.mode` (declared) by NVIDIA's sequence, with the host power cycle `inputs.host`
 * allows. Nothing is sent when the BMC reports the mode already (or, when it cannot be read back, when the state
 * records it as applied). Refusals (no Mode.Set, host policy `requireOff` with the host On, a host BMC without
 * a reset action) come before any request that changes state. Returns output `operatingMode`.
 */
export async function applyMode(
  inputs: DpuHostInputs,
  target: ModeTarget,
  prior: DpuHostOutputs | undefined,
  log: Logger,
  forInstall = false,
): Promise<OperatingModeOutput | undefined> {
  const want = inputs.mode;
  if (!want) return undefined;
  return withBmcLock(inputs.bmc.endpoint, async () => {
    const client = bmcClient(inputs);
    const where = `system ${target.systemId} on BMC ${client.origin}`;
    try {
      const seen = await observeMode(client, target.systemPath);
      const reading = seen.reading;
      const applied =
        seen.reported === want ||
        (seen.reported === undefined &&
          prior?.mode === want &&
          prior.operatingMode?.hostPowerCyclePending === undefined);
      if (applied) {
        if (!seen.reported) log.info(`mode ${want}: ${seen.unreadable}; the state records it as applied`);
        return stripReading(seen, want);
      }
      // Before an install, a mode that cannot be read back is not switched blindly (a host power cycle for
      // nothing): the install goes on, bounded by ready.timeoutMs, and the output says the mode is unreadable.
      if (forInstall && !seen.reported) {
        log.info(`mode ${want}: ${seen.unreadable}; installing without switching it`);
        return stripReading(seen, want);
      }
      const refusal = modeSetRefusal(reading, want);
      if (refusal || !reading)
        throw new DpuError(
          "DPU_REDFISH_UNSUPPORTED",
          `set mode ${want} (${where}): ${refusal ?? "no Oem/Nvidia"}`,
        );
      if (!seen.reported)
        log.info(`mode ${want}: ${seen.unreadable}; applying the documented sequence anyway`);
      // The host first (reads only): a policy that refuses does so before anything changes.
      const host = inputs.host;
      // An install needs the OS running in DPU mode: a switch that would stay pending cannot precede it.
      if (forInstall && host?.policy !== "powerCycle")
        throw new ValidationError("DpuHost", [
          {
            property: "mode",
            reason: `${where} reports mode ${seen.reported ?? "(unreadable)"}, and the install needs mode ${want}, which takes a host power cycle that ${host ? `host.policy ${host.policy}` : "a DpuHost without a host block"} does not allow: nothing was changed; set host.policy powerCycle, or switch the mode and power-cycle the host first`,
          },
        ]);
      const hc = host && host.policy !== "none" ? hostClient(host) : undefined;
      // One change at a time per host server in this process: another DPU's host power cycle would switch this
      // DPU's mode in the middle of its Arm resets, and a host read while another cycle has it Off would be
      // "found Off" and left Off.
      const serial = <T>(fn: () => Promise<T>): Promise<T> =>
        hc && host?.policy === "powerCycle" ? withHostServerLock(hc.origin, fn) : fn();
      try {
        return await serial(async () => {
          let hostFound: HostSystem | undefined;
          if (host && hc) {
            hostFound = await readHostSystem(hc, host);
            if (host.policy === "requireOff" && hostFound.power !== "Off")
              throw new ValidationError("DpuHost", [
                {
                  property: "host.policy",
                  reason: `mode ${want} needs a host power cycle, and host.policy requireOff refuses while the host server (${hostFound.path} on BMC ${hc.origin}) is ${hostFound.rawPower}: power it off first, or use host.policy powerCycle`,
                },
              ]);
            if (hostFound.power === undefined)
              throw new DpuError(
                "DPU_REDFISH_UNSUPPORTED",
                `set mode ${want} (${where}): ${unknownPowerReason(hc, hostFound)}`,
              );
            if (host.policy === "powerCycle" && !hostFound.resetTarget)
              throw new DpuError(
                "DPU_REDFISH_UNSUPPORTED",
                `set mode ${want} (${where}): the host server's system ${hostFound.path} on BMC ${hc.origin} has no ComputerSystem.Reset action, so host.policy powerCycle cannot power-cycle it`,
              );
            const noCycle = host.policy === "powerCycle" ? hostCycleRefusal(hc, hostFound) : undefined;
            if (noCycle)
              throw new DpuError("DPU_REDFISH_UNSUPPORTED", `set mode ${want} (${where}): ${noCycle}`);
          }
          // Reserved before the first change: a run killed between Mode.Set and the host power cycle is completed by
          // the next, and another provider process cannot cycle the host in the middle of this sequence.
          const reserved =
            host && hc && hostFound && host.policy === "powerCycle"
              ? reserveHostCycle(hc, hostFound, log)
              : undefined;
          log.info(`changing ${modeChangePlan(want, host)}`);
          try {
            await setMode(client, reading, want);
            await resetArmTwice(client, inputs, target, seen.reported, log);
          } catch (e) {
            reserved?.release();
            throw e;
          }
          if (host && hc && hostFound && host.policy === "powerCycle") {
            await powerCycleHost(hc, host, hostFound, log, reserved);
            return await waitForMode(client, inputs, target, want, seen.reported !== undefined, log);
          }
          const pending =
            host?.policy === "requireOff"
              ? `mode ${want} was set (Mode.Set, Arm cores reset twice); it takes effect when the host server (Off now; host.policy requireOff) is next powered on`
              : `mode ${want} was set (Mode.Set, Arm cores reset twice); a host power cycle is pending: it takes effect at the next power cycle of the host server (${host ? "host.policy none" : "no host block"}: DpuHost did not touch the host)`;
          log.info(pending);
          const now = await observeMode(client, target.systemPath);
          return { ...stripReading(now, now.reported), hostPowerCyclePending: pending, pendingMode: want };
        });
      } finally {
        await hc?.close();
      }
    } finally {
      await client.close();
    }
  });
}

function stripReading(
  seen: OperatingModeOutput & { readonly reading?: ModeReading },
  mode: DeclaredMode | undefined,
): OperatingModeOutput {
  return {
    ...(seen.reported ? { reported: seen.reported } : {}),
    ...(seen.unreadable ? { unreadable: seen.unreadable } : {}),
    ...(mode === "nic" ? { unobservable: NIC_MODE_UNOBSERVABLE } : {}),
  };
}

/**
 * Step 2 of NVIDIA's sequence: two hard resets of the Arm cores (ComputerSystem.Reset ForceRestart, "Reset
 * Control"), each waited for until the BMC shows a new boot (BootProgress LastStateTime moved, power On).
 */
async function resetArmTwice(
  client: RedfishClient,
  inputs: DpuHostInputs,
  target: ModeTarget,
  running: DeclaredMode | undefined,
  log: Logger,
): Promise<void> {
  // Where a boot ends in the mode the DPU runs in now (the mode set takes effect only at the host power cycle).
  const ended = (bp: string | undefined): boolean =>
    running === "dpu" ? osRunning(bp) : running === "nic" ? bp === "UEFI" : false;
  const ctl = await readPowerControl(client, target.systemPath, `system ${target.systemId}'s`);
  const type = ["ForceRestart", "GracefulRestart"].find(
    (t) => ctl.resetTypes.length === 0 || ctl.resetTypes.includes(t),
  );
  if (!type || !ctl.resetTarget)
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `reset the Arm cores of system ${target.systemId} on BMC ${client.origin}: no ForceRestart/GracefulRestart; the BMC allows ${ctl.resetTypes.join(", ") || "none"}`,
    );
  for (const n of [1, 2]) {
    const before = await readSystem(client, target.systemPath);
    await client.post(
      ctl.resetTarget,
      { ResetType: type },
      { action: `reset the Arm cores (${type}, ${n} of 2)` },
    );
    log.info(`reset the Arm cores of system ${target.systemId} with ${type} (${n} of 2)`);
    let moved = false;
    await pollUntil(
      async () => {
        const cur = await readSystem(client, target.systemPath);
        // A new boot shows as a LastStateTime other than before the reset, or a state other than before; it is
        // over when the system is back where it was, or where a boot ends in the mode it runs in (the OS in DPU
        // mode, UEFI in NIC mode): a DPU reset mid-boot (its host just power-cycled) never returns to the
        // transient state it was read in.
        if (cur?.bootProgressTime !== before?.bootProgressTime || cur?.bootProgress !== before?.bootProgress)
          moved = true;
        const settled =
          cur?.bootProgress === undefined ||
          (moved && (cur.bootProgress === before?.bootProgress || ended(cur.bootProgress)));
        return {
          done: cur?.powerState === "On" && settled,
          value: cur,
          status: `power ${cur?.rawPowerState ?? "?"}, BootProgress ${cur?.bootProgress ?? "n/a"}`,
        };
      },
      {
        what: `system ${target.systemId} to restart (${n} of 2)`,
        timeoutMs: inputs.ready.timeoutMs,
        intervalMs: 200,
        onProgress: (l) => log.info(l),
      },
    );
  }
}

/**
 * After the host power cycle: waits until the BMC reports the new mode (where it reports one) and, in DPU mode,
 * until BootProgress shows the OS running (where the BMC shows BootProgress). In NIC mode no OS is waited for:
 * what cannot be observed is stated instead.
 */
async function waitForMode(
  client: RedfishClient,
  inputs: DpuHostInputs,
  target: ModeTarget,
  want: DeclaredMode,
  readable: boolean,
  log: Logger,
): Promise<OperatingModeOutput> {
  const seen = await pollUntil(
    async () => {
      const cur = await observeMode(client, target.systemPath);
      const sys = await readSystem(client, target.systemPath);
      const modeOk = !readable || cur.reported === want;
      // The boot ends at the OS in DPU mode, at UEFI in NIC mode (NVIDIA BlueField BMC, "BlueField Arm State").
      const osOk =
        sys?.bootProgress === undefined ||
        (want === "dpu" ? osRunning(sys.bootProgress) : sys.bootProgress === "UEFI");
      return {
        done: modeOk && osOk,
        value: cur,
        status: `mode ${cur.reported ?? "unreadable"}${sys ? `, BootProgress ${sys.bootProgress ?? "n/a"}` : ""}`,
      };
    },
    {
      what: `system ${target.systemId} on ${client.origin} to run in mode ${want}`,
      timeoutMs: inputs.ready.timeoutMs,
      intervalMs: 300,
      onProgress: (l) => log.info(l),
    },
  );
  if (want === "nic")
    log.info(`system ${target.systemId} is in NIC mode: not observable: ${NIC_MODE_UNOBSERVABLE.join("; ")}`);
  return stripReading(seen, want);
}

/**
 * Before an install (create, a new image, a resumed install): refuses `mode: nic` before any request (no OS can
 * be installed there), and brings a DPU found in NIC mode to the declared DPU mode first (host.policy
 * powerCycle), or refuses before any change when the switch could only stay pending. Undefined without `mode`.
 */
export async function modeBeforeInstall(
  inputs: DpuHostInputs,
  prior: DpuHostOutputs | undefined,
  log: Logger,
): Promise<OperatingModeOutput | undefined> {
  if (!inputs.mode) return undefined;
  const refusal = installModeRefusal(inputs);
  if (refusal) throw new ValidationError("DpuHost", [{ property: "mode", reason: refusal }]);
  const target = prior?.discovery?.systemPath
    ? { systemPath: prior.discovery.systemPath, systemId: prior.systemId }
    : await systemOf(inputs);
  return applyMode(inputs, target, prior, log, true);
}

/** The DPU's system, found the way provisioning finds it (bmc.systemId, else the only or the DPU-like one). */
async function systemOf(inputs: DpuHostInputs): Promise<ModeTarget> {
  const client = bmcClient(inputs);
  try {
    const caps = await discover(client, {
      ...(inputs.bmc.systemId ? { systemId: inputs.bmc.systemId } : {}),
      minimalReads: true,
      updateServiceOnlyAsFallback: true,
    });
    return { systemPath: caps.systemPath, systemId: caps.systemId };
  } finally {
    await client.close();
  }
}
