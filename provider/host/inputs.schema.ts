import { z } from "zod";
import type { FieldRules } from "../lifecycle/diff";
import { fieldRules, secretPaths } from "../lifecycle/field-meta";
import type { KeptCapabilities } from "../redfish/kept-capabilities";
import { pemCertificateProblem } from "../redfish/tls";
import { HOST_KEY_PATTERN } from "../ssh/host-key-pattern";
import { ImageStageSchema } from "../stage/stage.schema";
import type { FirmwareVersions } from "./firmware-inventory";
import { DpuIdentitySchema } from "./identity.schema";

const SHA256 = /^[a-f0-9]{64}$/;

/** Image URL schemes: what BMCs fetch (HTTP(S) everywhere; SCP/SFTP where SimpleUpdate allows only those). */
const IMAGE_SCHEMES = ["http:", "https:", "scp:", "sftp:"];

const imageUrl = (what: string) =>
  z.string().refine(
    (v) => {
      try {
        return IMAGE_SCHEMES.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `${what} must be an http://, https://, scp:// or sftp:// URL` },
  );

/** A PEM CA certificate (or bundle); every block must parse as X.509, named `what` in the message. */
const pemCertificate = (what: string) =>
  z.string().superRefine((v, ctx) => {
    const problem = pemCertificateProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `${what} ${problem}` });
  });

/** `caCert` and `insecureSkipVerify` of a block reaching a BMC (`block`: its input name; `who`: the BMC, in prose). */
const tlsFields = (block: string, who: string, caDefault: string) => ({
  caCert: pemCertificate(`${block}.caCert`)
    .optional()
    .describe(`PEM CA certificate ${who}'s TLS certificate must chain to (default: ${caDefault}).`)
    .meta({ noHardwareAction: true }),
  insecureSkipVerify: z
    .boolean()
    .default(false)
    .describe(`Skip TLS verification of ${who} (lab only). Default false: TLS is verified.`)
    .meta({ noHardwareAction: true }),
});

/** Refuses a block's `caCert` with `insecureSkipVerify: true`: a CA verification would never use. */
const refuseIgnoredCa =
  (block: string) =>
  (
    v: { readonly insecureSkipVerify: boolean; readonly caCert?: string | undefined },
    ctx: z.RefinementCtx,
  ) => {
    // A CA that verification would never use is a contradiction, not a preference: say so instead of ignoring it.
    if (v.insecureSkipVerify && v.caCert !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["insecureSkipVerify"],
        message: `${block}.caCert and ${block}.insecureSkipVerify: true contradict each other (the CA would be ignored): keep caCert and remove insecureSkipVerify to verify the BMC against it, or remove caCert (lab only)`,
      });
    }
  };

/** The `bmc` block: how to reach the DPU's Redfish service. */
export const DpuHostBmcSchema = z
  .strictObject({
    endpoint: z
      .string()
      .refine((v) => {
        try {
          return new URL(v).protocol === "https:";
        } catch {
          return false;
        }
      }, "must be an https:// URL of the BMC, e.g. https://10.0.0.5")
      .refine((v) => {
        try {
          const u = new URL(v);
          return u.username === "" && u.password === "";
        } catch {
          return true;
        }
      }, "must not carry credentials (user:password@); set bmc.username and bmc.password (secret) instead")
      .describe("HTTPS URL of the BMC (only its origin is used). Changing it replaces the DpuHost.")
      .meta({ replaceOnChange: true, credentialUrl: true }),
    username: z
      .string()
      .min(1)
      .optional()
      .describe("BMC user name (default: stack config `dpu:bmcUsername`).")
      .meta({ noHardwareAction: true }),
    password: z
      .string()
      .min(1)
      .optional()
      .describe("BMC password (default: stack config `dpu:bmcPassword`). Secret: never logged.")
      .meta({ secret: true, noHardwareAction: true }),
    ...tlsFields("bmc", "the BMC", "stack config `dpu:bmcCaCert`, then the system trust store"),
    systemId: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Id of the ComputerSystem that is the DPU (default: the only system, or the one with SystemType DPU). Changing it replaces the DpuHost.",
      )
      .meta({ replaceOnChange: true }),
    virtualMediaId: z
      .string()
      .min(1)
      .optional()
      .describe("Virtual-media slot id to use (default: the first CD/DVD slot).")
      .meta({ noHardwareAction: true }),
    auth: z
      .enum(["session", "basic", "auto"])
      .default("auto")
      .describe(
        "Authentication: `session` (X-Auth-Token), `basic`, or `auto` (default: HTTP Basic, which DSP0266 requires services to support and which leaves no session open on the BMC; a session only when Basic is refused).",
      )
      .meta({ noHardwareAction: true }),
    requestTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      .default(30_000)
      .describe("Timeout of each Redfish request in ms (default 30000).")
      .meta({ noHardwareAction: true }),
    retryAttempts: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe(
        "Attempts for a retryable Redfish request (5xx, reset, busy) including the first (default 5).",
      )
      .meta({ noHardwareAction: true }),
    retryBaseDelayMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(500)
      .describe("First retry delay in ms, doubling up to 10 s (default 500).")
      .meta({ noHardwareAction: true }),
  })
  .superRefine(refuseIgnoredCa("bmc"))
  .describe("The DPU's BMC.");

/** The `image` block: what to install and how. */
export const DpuHostImageSchema = z
  .strictObject({
    url: imageUrl("image.url")
      .describe(
        "URL of the image (ISO for virtual media / UEFI HTTP, BFB or vendor bundle for SimpleUpdate). The BMC fetches it. `scp://user:password@host/path` and `sftp://…` serve BMCs whose SimpleUpdate allows only those protocols (BlueField); credentials in the URL are treated as secrets (redacted, sent to the BMC as SimpleUpdate Username/Password).",
      )
      .meta({ credentialUrl: true }),
    sha256: z
      .string()
      .regex(SHA256, "must be 64 lower-case hex characters (sha256sum output)")
      .optional()
      .describe(
        "Expected sha256 of the image. When set, the provider downloads the image and verifies it before any hardware action, and compares it with the running OS afterwards.",
      ),
    method: z
      .enum(["virtualMedia", "uefiHttp", "simpleUpdate"])
      .optional()
      .describe(
        "How to install: `virtualMedia` (InsertMedia + boot Cd), `uefiHttp` (boot UefiHttp with HttpBootUri), `simpleUpdate` (UpdateService.SimpleUpdate, e.g. BlueField BFB). Default: chosen from what the BMC supports.",
      ),
    username: z
      .string()
      .min(1)
      .optional()
      .describe(
        "User of an image server that needs credentials (`scp://`, `sftp://`, or an `https://` server with authentication): sent to the BMC as SimpleUpdate `Username` / InsertMedia `UserName`, and used by the provider's own image check. Prefer it to credentials inside image.url.",
      )
      .meta({ noHardwareAction: true }),
    password: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Password of image.username, sent to the BMC with the install request. Secret: never logged, secret in state.",
      )
      .meta({ secret: true, noHardwareAction: true }),
    scpHostKey: z
      .string()
      .regex(HOST_KEY_PATTERN, "must be `SHA256:<base64>` (ssh-keygen -lf) or a public key line")
      .optional()
      .describe(
        'Host key of the SCP server of an `scp://` image.url, given to a BlueField BMC through its documented PublicKeyExchange before the transfer (NVIDIA "Setting Up Secure Connection"): the public key line `ssh-keyscan -t ed25519 <server>` prints after the address, or its `SHA256:` fingerprint (the key is then read from the server and must match). Unset: the key the server offers now is trusted on first use (logged as such). The BMC answers with its own public key, logged and named in a refused transfer: it must be in `~<image.username>/.ssh/authorized_keys` on the server.',
      )
      .meta({ noHardwareAction: true }),
    simpleUpdateTarget: z
      .string()
      .optional()
      .describe(
        "SimpleUpdate `Targets` entry (default: the FirmwareInventory item of the DPU OS, e.g. `/redfish/v1/UpdateService/FirmwareInventory/DPU_OS`).",
      ),
    platform: z
      .string()
      .regex(/^BlueField-[1-9]$/, "must be `BlueField-<generation>`, e.g. `BlueField-3`")
      .optional()
      .describe(
        "The DPU generation the image is built for (`BlueField-2`, `BlueField-3`): before anything is changed, the provider compares it with the generation the BMC reports (the Model of the system or its chassis, e.g. `Bluefield 3 SmartNIC Main Card`) and refuses a mismatch (NVIDIA ships a BFB per generation; a wrong one ends in `Invalid FW Package`). Unset: not checked.",
      )
      .meta({ noHardwareAction: true }),
    expectFirmware: z
      .strictObject({
        dpuOs: z.string().min(1).optional().describe("Expected `Version` of FirmwareInventory `DPU_OS`."),
        atf: z.string().min(1).optional().describe("Expected `Version` of FirmwareInventory `DPU_ATF`."),
        uefi: z.string().min(1).optional().describe("Expected `Version` of FirmwareInventory `DPU_UEFI`."),
        nic: z.string().min(1).optional().describe("Expected `Version` of FirmwareInventory `DPU_NIC`."),
        bmc: z
          .string()
          .min(1)
          .optional()
          .describe("Expected `Version` of the BMC's own item (`BMC_Firmware` on BlueField)."),
      })
      .optional()
      .describe(
        "Firmware versions the BMC must report after the install (output `firmware`, read from UpdateService/FirmwareInventory): a mismatch fails the install, naming the component, the version expected and the one reported.",
      )
      .meta({ noHardwareAction: true }),
    caCert: pemCertificate("image.caCert")
      .optional()
      .describe("PEM CA for downloading an https image for verification (default: bmc.caCert).")
      .meta({ noHardwareAction: true }),
    applyTime: z
      .enum(["Immediate", "OnReset"])
      .optional()
      .describe(
        'When the BMC applies a SimpleUpdate install, as Redfish `@Redfish.OperationApplyTime` names it: `Immediate` (default: the BMC installs at once; a BlueField takes the DPU out of service for the whole install, NVIDIA "Deploying Software Using BFB", Offline Update Flow) or `OnReset` (the BMC stages the image and applies it at the next reset of the DPU, NVIDIA\'s Deferred Update Flow on BlueField-3). `OnReset` is refused, before anything is changed, on a BMC whose SimpleUpdate does not advertise it in `@Redfish.OperationApplyTimeSupport`.',
      )
      .meta({ noHardwareAction: true }),
    activate: z
      .enum(["now", "nextReset"])
      .optional()
      .describe(
        "With `applyTime: OnReset`, who resets the DPU to activate the staged image: `now` (DpuHost resets it with ComputerSystem.Reset right after staging and waits for the new OS, as for an Immediate install) or `nextReset` (default: DpuHost leaves the reset to the operator; output `pendingActivation` shows the staged image until a reset activates it, and read() clears it once the BMC shows it running).",
      )
      .meta({ noHardwareAction: true }),
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3600_000)
      .default(1_800_000)
      .describe("Limit for the image transfer/install task in ms (default 30 min).")
      .meta({ noHardwareAction: true }),
  })
  .superRefine((v, ctx) => {
    // Only SimpleUpdate has an apply time; `activate` says who resets for an OnReset update.
    if (v.applyTime === "OnReset" && (v.method === "virtualMedia" || v.method === "uefiHttp")) {
      ctx.addIssue({
        code: "custom",
        path: ["applyTime"],
        message: `image.applyTime OnReset stages a SimpleUpdate install; image.method ${v.method} boots the image at the reset DpuHost issues and has no apply time`,
      });
    }
    if (v.activate !== undefined && v.applyTime !== "OnReset") {
      ctx.addIssue({
        code: "custom",
        path: ["activate"],
        message: `image.activate says who resets the DPU to activate a staged update; it needs image.applyTime OnReset (it is ${v.applyTime ?? "unset, i.e. Immediate"})`,
      });
    }
    // scp:// and sftp:// are for SimpleUpdate (its TransferProtocol); a BMC boots virtual media and UEFI HTTP
    // from http(s) only, and the URL's credentials must not reach it for a method that cannot use them.
    let scheme: string;
    try {
      scheme = new URL(v.url).protocol;
    } catch {
      return;
    }
    if (
      (scheme === "scp:" || scheme === "sftp:") &&
      (v.method === "virtualMedia" || v.method === "uefiHttp")
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: `image.url is ${scheme}//, which only image.method simpleUpdate can use; image.method ${v.method} needs an http:// or https:// URL`,
      });
    }
  })
  .describe("The image the DPU runs.");

/** The SSH readiness probe. */
export const DpuHostSshProbeSchema = z
  .strictObject({
    host: z.string().min(1).describe("Address of the DPU OS's SSH server (management port)."),
    port: z.number().int().min(1).max(65535).default(22).describe("SSH port (default 22)."),
    username: z.string().min(1).default("root").describe("SSH user (default root)."),
    privateKey: z
      .string()
      .min(1)
      .optional()
      .describe("Private key (default: stack config `dpu:sshPrivateKey`). Secret.")
      .meta({ secret: true }),
    hostKey: z
      .string()
      .regex(HOST_KEY_PATTERN, "must be `SHA256:<base64>` (ssh-keygen -lf) or a public key line")
      .optional()
      .describe(
        "Pinned host key. Unset: the key seen right after install is pinned in outputs and verified afterwards.",
      ),
  })
  .describe("SSH probe: the DPU is ready when its OS answers SSH; os-release proves which image runs.");

/** The `ready` block. */
export const DpuHostReadySchema = z
  .strictObject({
    bootProgress: z
      .boolean()
      .default(true)
      .describe(
        "Wait for BootProgress OSRunning (or BlueField OsIsRunning) when the BMC reports it (default true).",
      ),
    ssh: DpuHostSshProbeSchema.optional(),
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3600_000)
      .default(1_200_000)
      .describe("Limit for the DPU to become ready after the reset, in ms (default 20 min)."),
  })
  .describe("When the DPU counts as provisioned.");

/**
 * The `host` block (issue 17 item 6): the BMC of the server the DPU sits in, and what DpuHost may do with the
 * server's power when a mode change (or an install that needs one) requires a host power cycle (NVIDIA BlueField
 * BMC, "BlueField Modes of Operation Configuration", step 3: power cycle from the host).
 */
export const DpuHostServerSchema = z
  .strictObject({
    endpoint: z
      .string()
      .refine((v) => {
        try {
          const u = new URL(v);
          return u.protocol === "https:" && u.username === "" && u.password === "";
        } catch {
          return false;
        }
      }, "must be an https:// URL of the host server's BMC without credentials (set host.username and host.password)")
      .describe("HTTPS URL of the host server's own BMC (Redfish; only its origin is used).")
      .meta({ noHardwareAction: true, credentialUrl: true }),
    username: z.string().min(1).describe("User of the host server's BMC.").meta({ noHardwareAction: true }),
    password: z
      .string()
      .min(1)
      .describe("Password of host.username. Secret: never logged, secret in state.")
      .meta({ secret: true, noHardwareAction: true }),
    ...tlsFields("host", "the host BMC", "the system trust store"),
    systemId: z
      .string()
      .min(1)
      .optional()
      .describe("Id of the host's ComputerSystem on its BMC (default: the only system).")
      .meta({ noHardwareAction: true }),
    policy: z
      .enum(["none", "powerCycle", "requireOff"])
      .default("none")
      .describe(
        "What DpuHost may do when a change needs the host power-cycled: `none` (default) never sends anything to the host BMC and reports the pending host power cycle (output `operatingMode.hostPowerCyclePending`); `powerCycle` power-cycles the host through its BMC, waits, and leaves it in the power state it was found in (On: power cycle; Off: power on, then off again); `requireOff` refuses unless the host is Off and never powers it (the change completes when the host is next powered on).",
      )
      .meta({ noHardwareAction: true }),
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(3600_000)
      .default(600_000)
      .describe("Limit for each host power transition, in ms (default 10 min).")
      .meta({ noHardwareAction: true }),
  })
  .superRefine(refuseIgnoredCa("host"))
  .describe("The host server's own BMC and the host power policy.");

/** DpuHost inputs: the single source of truth for types, checks and docs. */
export const DpuHostInputsSchema = z
  .strictObject({
    bmc: DpuHostBmcSchema,
    image: DpuHostImageSchema,
    ready: DpuHostReadySchema.default({ bootProgress: true, timeoutMs: 1_200_000 }).meta({
      noHardwareAction: true,
    }),
    power: z
      .enum(["On", "Off"])
      .default("On")
      .describe("Desired steady power state after provisioning (default On)."),
    ejectAfterInstall: z
      .boolean()
      .default(true)
      .describe("Eject the virtual media and clear the boot override once the OS runs (default true)."),
    owner: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe(
        "Identity of the writer that owns this DPU; the SDK sets it to `<project>/<stack>/<resource name>`. Claimed on this machine (under `PULUMI_DPU_STATE_DIR`) for the BMC and system: a create or update of a DpuHost with another owner on the same system is refused before anything is changed, and the claim is released by delete.",
      )
      .meta({ noHardwareAction: true }),
    identity: DpuIdentitySchema.optional(),
    stage: ImageStageSchema.optional().meta({ noHardwareAction: true }),
    mode: z
      .enum(["dpu", "nic"])
      .optional()
      .describe(
        'BlueField mode of operation (NVIDIA BlueField BMC, "BlueField Modes of Operation Configuration"): `dpu` (the Arm cores run the DPU OS) or `nic` (the Arm cores are off; the BlueField is a plain NIC, so no OS can be installed or observed). A change is made as NVIDIA documents it: Mode.Set, two resets of the Arm cores, then a power cycle of the host server (see `host`). Read back from the BMC\'s `Oem/Nvidia` `Mode` where it reports one (output `operatingMode`). Unset: the mode is neither changed nor checked.',
      ),
    host: DpuHostServerSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.identity !== undefined && v.stage === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["stage"],
        message:
          "an identity needs an image stage the BMC fetches the seed from (kind builtin, httpPut or sftp)",
      });
    }
    // The host block names the server's own BMC: the DPU's BMC there would power-cycle the DPU, not the host.
    if (v.host && originOf(v.host.endpoint) === originOf(v.bmc.endpoint)) {
      ctx.addIssue({
        code: "custom",
        path: ["host", "endpoint"],
        message:
          "is the DPU's own BMC (bmc.endpoint): host.endpoint must be the BMC of the server the DPU sits in, whose power cycle completes a mode change",
      });
    }
  });

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Checked DpuHost inputs. */
export type DpuHostInputs = z.output<typeof DpuHostInputsSchema>;

/**
 * How the new boot was observed: BootProgress changed after the reset and reached the OS (`bootProgress`), the
 * SSH probe saw the expected image (`ssh`), or both.
 */
export type BootObservation = "bootProgress" | "ssh" | "bootProgressAndSsh";

/** The image DpuHost installed. */
export interface InstalledImage {
  readonly url: string;
  /** sha256 measured (download or os-release); undefined when nothing could measure it. */
  readonly sha256?: string;
  readonly method: "virtualMedia" | "uefiHttp" | "simpleUpdate";
  /** ISO 8601 time the install finished. */
  readonly installedAt: string;
  /** How the boot of the image was observed (absent in states written before this was recorded). */
  readonly observedBy?: BootObservation;
}

/** The identity seed an install delivered, as recorded in state (its digest, never its content). */
export interface IdentitySeedRecord {
  /** `cidata`: NoCloud volume in a second virtual-media slot; `bf.cfg`: appended to the BFB. */
  readonly kind: "cidata" | "bf.cfg";
  /** sha256 of the seed (the ISO, or the bf.cfg). */
  readonly sha256: string;
  /** Fingerprint of the host key the seed carried (generated by the provider). */
  readonly hostKeyFingerprint?: string;
}

/** Where an install stopped: recorded in a partial resource's state so the next update resumes it. */
export interface InstallPending {
  /** The image being installed (userinfo removed). */
  readonly url: string;
  readonly method: "virtualMedia" | "uefiHttp" | "simpleUpdate";
  /**
   * `staging`: media/override/SimpleUpdate under way, no reset yet; `booting`: the DPU was reset (or installs by
   * itself) and the new boot was not yet confirmed; `finishing`: the new OS ran, eject/override/power remained.
   */
  readonly stage: "staging" | "booting" | "finishing";
  /** `BootProgress.LastStateTime` before the reset, to tell the new boot from the old one. */
  readonly bootProgressTimeBefore?: string;
  /**
   * `BootProgress.LastStateTime` of the boot the install saw reach the OS and still fail (SSH never answered, or
   * another image came up): the next run installs again rather than wait on that boot.
   */
  readonly failedBootTime?: string;
  /** ISO 8601 time the install stopped. */
  readonly at: string;
}

/** A staged update waiting for the DPU's next reset (NVIDIA "Deploying Software Using BFB", Deferred Update Flow). */
export interface PendingActivation {
  /** The image staged (userinfo removed). */
  readonly url: string;
  /** sha256 measured before staging, when one was. */
  readonly sha256?: string;
  /** ISO 8601 time the BMC's task finished staging it. */
  readonly stagedAt: string;
  /** `BootProgress.LastStateTime` when it was staged: a later boot is the reset that activates it. */
  readonly bootProgressTimeBefore?: string;
  /** The DPU_OS version the BMC reported when it was staged (still active until the reset). */
  readonly activeVersion?: string;
  /** FirmwareInventory members the BMC lists as `Staged` (SoftwareInventory v1_12_0), by Id: their `Version`. */
  readonly staged?: Readonly<Record<string, string>>;
}

/** DpuHost outputs: inputs plus what the BMC (and SSH) observed. */
export interface DpuHostOutputs extends DpuHostInputs {
  readonly systemId: string;
  /** Paths found by discovery, reused so read() needs no rediscovery. */
  readonly discovery: {
    readonly systemPath: string;
    readonly slotPath?: string;
    readonly settingsPath?: string;
    readonly method: "virtualMedia" | "uefiHttp" | "simpleUpdate";
    readonly bootProgressSupported: boolean;
    /**
     * The BMC's targets and allowed values as discovery found them: a re-image, an update and a delete use them
     * without rediscovery (re-read only when the BMC refuses one). Absent in state written before.
     */
    readonly kept?: KeptCapabilities;
    /** The UpdateService's FirmwareInventory collection, read after an install (absent: the BMC has none). */
    readonly firmwareInventoryPath?: string;
  };
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serialNumber?: string;
  readonly uuid?: string;
  readonly bmcFirmwareVersion?: string;
  /** Firmware versions by component, as the BMC's FirmwareInventory reports them (absent: not listed). */
  readonly firmware?: FirmwareVersions;
  readonly powerState: string;
  readonly bootProgress?: string;
  readonly installedImage?: InstalledImage;
  /** MAC addresses of the DPU's ports by interface name (over SSH). */
  readonly macs: Record<string, string>;
  /** /etc/os-release fields (over SSH). */
  readonly osRelease: Record<string, string>;
  /** SSH host key fingerprint pinned at install (`SHA256:…`). */
  readonly hostKeyFingerprint?: string;
  /** The Day-0 identity delivered with the install: the seed's digest, never the seed. */
  readonly identitySeed?: IdentitySeedRecord;
  /** The host key the provider generated for `identity.hostKey: generate` (secret output). */
  readonly identityHostKey?: { readonly privateKey: string; readonly publicKey: string };
  /** Set only in a partial resource (an install that stopped); the next update resumes from it. */
  readonly installPending?: InstallPending;
  /** The BlueField mode of operation as the BMC reports it (only when `mode` is declared). */
  readonly operatingMode?: OperatingModeOutput;
  /** An update the BMC staged (`image.applyTime: OnReset`, `activate: nextReset`) that no reset activated yet. */
  readonly pendingActivation?: PendingActivation;
}

/** Output `operatingMode`: what the BMC reports about the mode, and what cannot be observed. */
export interface OperatingModeOutput {
  /** The mode the BMC reports; absent when it reports none (an empty `Mode`: it cannot be read back). */
  readonly reported?: "dpu" | "nic";
  /** Why the mode could not be read back, when it could not. */
  readonly unreadable?: string;
  /** Set when a mode change waits for a host power cycle DpuHost did not do (host.policy `none`, no `host`, `requireOff`). */
  readonly hostPowerCyclePending?: string;
  /** The mode set and waiting for that host power cycle (with `hostPowerCyclePending`). */
  readonly pendingMode?: "dpu" | "nic";
  /** What cannot be observed in this mode (NIC mode: the DPU OS, its SSH probe, BootProgress past UEFI). */
  readonly unobservable?: readonly string[];
}

/** Input keys diffed (every top-level input). */
export const DPU_HOST_INPUT_KEYS = Object.keys(DpuHostInputsSchema.shape) as readonly string[];

/**
 * Change rules, derived from the fields' metadata (`replaceOnChange`, `noHardwareAction`): what replaces, what
 * needs no hardware action. A DPU cannot run two copies of itself: the old one is deleted first.
 */
export const dpuHostFieldRules: FieldRules = fieldRules(DpuHostInputsSchema, { deleteBeforeReplace: true });

/** Dotted paths of secret inputs, derived from the fields' `secret` metadata. */
export const DPU_HOST_SECRET_INPUTS: readonly string[] = secretPaths(DpuHostInputsSchema);
