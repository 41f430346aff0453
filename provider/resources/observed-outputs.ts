import { z } from "zod";
import type { DpuHostInputs, DpuHostOutputs } from "./dpu-host.schema";
import type { DpuUnderlayOutputs } from "./dpu-underlay.observe";
import type { DpuUnderlayInputs } from "./dpu-underlay.schema";
import type { DpuWorkloadObserved } from "./dpu-workload.outputs";

/**
 * The observed (output-only) fields of each resource: the one declaration of their names, descriptions and
 * secretness. `schema.json`'s output properties, the SDK's observed key lists (`sdk/generated/metadata.ts`) and
 * the secret output list derive from these; the compile-time checks below keep the provider's richer TypeScript
 * output types to the same keys. Documentation and metadata only: outputs are built by the provider, not parsed.
 */

const stringMap = z.record(z.string(), z.string());
const anyMap = z.record(z.string(), z.unknown());

/** DpuHost: what the BMC (and SSH) observed. */
export const DpuHostObservedSchema = z.strictObject({
  systemId: z.string().describe("Redfish ComputerSystem id."),
  discovery: anyMap.describe("Redfish paths found by discovery and the install method used."),
  manufacturer: z.string().optional().describe("Manufacturer reported by the BMC."),
  model: z.string().optional().describe("Model reported by the BMC."),
  serialNumber: z.string().optional().describe("Serial number reported by the BMC."),
  uuid: z.string().optional().describe("System UUID."),
  bmcFirmwareVersion: z.string().optional().describe("BMC firmware version."),
  firmware: stringMap
    .optional()
    .describe(
      "Firmware versions as the BMC's UpdateService/FirmwareInventory reports them, by component: dpuOs (DPU_OS), atf (DPU_ATF), uefi (DPU_UEFI), nic (DPU_NIC), bmc (BMC_Firmware); a component the BMC does not list is absent. Re-read by refresh: firmware drift shows here.",
    ),
  powerState: z.string().describe("Observed power state."),
  bootProgress: z.string().optional().describe("Observed boot progress."),
  installedImage: stringMap
    .optional()
    .describe("The image installed: url, measured sha256, method, installedAt."),
  macs: stringMap.describe("MAC addresses of the DPU's ports by interface name."),
  osRelease: stringMap.describe("/etc/os-release of the running OS."),
  hostKeyFingerprint: z
    .string()
    .optional()
    .describe("SSH host key fingerprint pinned at install (`SHA256:…`)."),
  identitySeed: stringMap
    .optional()
    .describe(
      "The Day-0 identity seed delivered with the install: kind (`cidata`/`bf.cfg`), sha256, host key fingerprint.",
    ),
  identityHostKey: stringMap
    .optional()
    .describe("The SSH host key generated for `identity.hostKey: generate` (secret).")
    .meta({ secret: true }),
  operatingMode: anyMap
    .optional()
    .describe(
      "The BlueField mode of operation as the BMC reports it (only with `mode` declared): reported (`dpu`/`nic`; absent when the BMC's `Mode` is empty: unreadable says so), hostPowerCyclePending and pendingMode (a mode change waiting for a host power cycle DpuHost did not do), unobservable (what NIC mode hides: the DPU OS, its SSH probe, BootProgress past UEFI).",
    ),
  pendingActivation: anyMap
    .optional()
    .describe(
      "An update the BMC staged (`image.applyTime: OnReset`, `activate: nextReset`) that no reset has activated yet: url, sha256, stagedAt, the DPU_OS version still active (activeVersion) and the FirmwareInventory members the BMC lists as Staged. Re-read by refresh: cleared once the BMC shows the update running (then `installedImage` records it).",
    ),
});

/** DpuUnderlay: what was observed on the DPU and what this resource added there. */
export const DpuUnderlayObservedSchema = z.strictObject({
  observedInterfaces: z.array(anyMap).describe("Interfaces as observed on the DPU."),
  observedRoutes: z.array(anyMap).describe("Declared routes and whether each is present."),
  observedHostname: z.string().describe("Host name observed on the DPU."),
  managementInterface: z
    .string()
    .optional()
    .describe("The interface carrying the SSH session (protected from changes)."),
  persistence: anyMap.describe("Persistence backend in use (`none`: runtime only) and the files written."),
  appliedDigest: z.string().describe("sha256 of the applied configuration."),
  added: anyMap.describe("What this resource added or changed on the DPU, so delete removes only that."),
});

/** DpuWorkload: what was observed on the DPU. */
export const DpuWorkloadObservedSchema = z.strictObject({
  resolvedRuntime: z.string().describe("The runtime in use (`auto` resolved)."),
  status: z.string().describe("Observed status: `running`, `failed` or `stopped`."),
  pid: z.number().int().optional().describe("Main pid on the DPU."),
  containerId: z.string().optional().describe("podman container id."),
  startedAt: z.string().optional().describe("Start time of the current run (ISO 8601)."),
  restartCount: z.number().int().describe("Restarts since the last deployment."),
  artifactDigests: stringMap.describe("sha256 of each artifact on the DPU, by destination."),
  imageDigest: z.string().optional().describe("Digest of the running image (podman)."),
  lastHealth: z.string().describe("Result of the last health probe."),
  logTail: z
    .string()
    .optional()
    .describe(
      "Last log lines of the current version when not running (secrets scrubbed; a secret output: the workload's own output). Unset while the workload runs, by design: its output changes on every read and would churn the state.",
    )
    .meta({ secret: true }),
});

/** Observed output keys of DpuHost. */
export const DPU_HOST_OBSERVED_KEYS = Object.keys(DpuHostObservedSchema.shape) as readonly string[];
/** Observed output keys of DpuUnderlay. */
export const DPU_UNDERLAY_OBSERVED_KEYS = Object.keys(DpuUnderlayObservedSchema.shape) as readonly string[];
/** Observed output keys of DpuWorkload. */
export const DPU_WORKLOAD_OBSERVED_KEYS = Object.keys(DpuWorkloadObservedSchema.shape) as readonly string[];

// Compile-time: the provider's output types carry exactly the observed keys declared above.
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : false;
type Keys<S extends z.ZodObject> = keyof z.output<S>;
/** `installPending` is internal resume state of a partial DpuHost, not an observed output. */
const hostKeys: SameKeys<
  Keys<typeof DpuHostObservedSchema>,
  Exclude<keyof DpuHostOutputs, keyof DpuHostInputs | "installPending">
> = true;
const underlayKeys: SameKeys<
  Keys<typeof DpuUnderlayObservedSchema>,
  Exclude<keyof DpuUnderlayOutputs, keyof DpuUnderlayInputs>
> = true;
const workloadKeys: SameKeys<Keys<typeof DpuWorkloadObservedSchema>, keyof DpuWorkloadObserved> = true;
void [hostKeys, underlayKeys, workloadKeys];
