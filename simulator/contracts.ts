/**
 * Contracts between the parts of the DPU lab simulator.
 *
 * The simulator is the provider's adversary: nothing under `simulator/` imports from `provider/` (and the
 * reverse), so a misunderstanding of Redfish or SSH cannot be written once and pass on both sides.
 *
 * Parts:
 * - `simulator/bmc/`     one Redfish BMC (HTTPS) per DPU; owns power, boot override, BootProgress, tasks.
 * - `simulator/images/`  image server, ISO9660 and BFB-like image generation, image inspection.
 * - `simulator/dpu/`     the DPU operating system: a network namespace with real sshd and real networking.
 * - `simulator/lab/`     orchestration: address plan, bridges, top-of-rack switch, control API, endpoints file.
 */

/** Names of the hand-written BMC profiles (what `mixed` cycles through). */
export const BMC_PROFILES = ["generic", "dell", "bluefield", "intel-ipu"] as const;
/**
 * Profiles served from captured Redfish trees (`../shared/redfish/mockups`, read at run time): every captured
 * resource as captured, with the BMC state machine running on top of the resources it touches.
 */
export const CAPTURE_BMC_PROFILES = [
  "capture-rackmount1",
  "capture-smartnic",
  "capture-tower",
  "capture-bladed",
  "capture-bluefield",
] as const;
/**
 * Quirk profiles: a capture-backed profile plus tree edits and behaviour switches reproducing one vendor's
 * documented behaviour (iDRAC, iLO, Supermicro, XCC, BlueField firmware generations, sushy-tools, a bare BMC).
 * Each needs the captures, like the capture-backed profiles.
 */
export const QUIRK_BMC_PROFILES = [
  "quirk-idrac",
  "quirk-ilo",
  "quirk-supermicro",
  "quirk-xcc",
  "quirk-bluefield-old",
  "quirk-bluefield-new",
  "quirk-emulator",
  "quirk-bare",
] as const;
/** Every profile name `createBmc`, `startLab` and `pulumi-dpu sim --profile` accept. */
export const ALL_BMC_PROFILES = [...BMC_PROFILES, ...CAPTURE_BMC_PROFILES, ...QUIRK_BMC_PROFILES] as const;
/** A BMC profile name. */
export type BmcProfileName = (typeof ALL_BMC_PROFILES)[number];
/** A capture-backed profile name. */
export type CaptureBmcProfileName = (typeof CAPTURE_BMC_PROFILES)[number];
/** A quirk profile name. */
export type QuirkBmcProfileName = (typeof QUIRK_BMC_PROFILES)[number];

/** An image as the BMC measured it after fetching it (a real BMC streams the media it boots). */
export interface BootImage {
  /** URL the image was fetched from. */
  readonly url: string;
  /** Lower-case hex sha256 of the bytes fetched. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly sizeBytes: number;
  /** `iso` for ISO9660 media, `bfb` for a BlueField-like bundle. */
  readonly kind: "iso" | "bfb";
  /** ISO9660 volume identifier, or the name in the BFB header. */
  readonly label: string;
}

/**
 * A medium the BMC presents to the DPU at boot besides its boot source: the image in another virtual-media
 * slot (a NoCloud `cidata` volume, for instance), fetched by the BMC the way it streams the boot CD.
 */
export interface AttachedMedium {
  /** URI of the virtual-media slot holding it. */
  readonly slot: string;
  /** URL the BMC fetched it from. */
  readonly url: string;
  /** The medium's bytes. */
  readonly bytes: Buffer;
}

/** What an install carries besides the OS image. */
export interface InstallExtras {
  /** The `bf.cfg` appended after a BFB's payload (`cat <BFB> <bf.cfg> > <new BFB>`), run by the installer. */
  readonly bfCfg?: string;
}

/** A port of the DPU as its operating system names it. */
export interface DpuPort {
  /** Interface name inside the DPU: `oob_net0` (management), `p0`, `p1` (data ports). */
  readonly name: "oob_net0" | "p0" | "p1";
  /** MAC address, lower-case colon form. Redfish EthernetInterfaces show the same value. */
  readonly mac: string;
}

/**
 * The operating-system side of one simulated DPU, driven by its BMC.
 *
 * The BMC owns the timeline (power state, BootProgress); the backend does what the hardware would do at each
 * step. All methods are idempotent.
 */
export interface DpuOsBackend {
  /** DPU name, unique in the lab (e.g. `dpu-0`). */
  readonly name: string;
  /** Ports in a stable order: oob_net0, p0, p1. */
  readonly ports: readonly DpuPort[];
  /** The image on the DPU's disk, or `undefined` for a blank DPU. */
  installedImage(): BootImage | undefined;
  /**
   * Writes `image` to the disk. The previous OS state is wiped: filesystem changes, host keys (new ones are
   * generated) and configuration. Only called while the DPU is stopped. `extras.bfCfg` is the bf.cfg a BFB
   * carried: the installer runs it against the new disk (its `bfb_modify_os`), as a BlueField install does.
   */
  install(image: BootImage, extras?: InstallExtras): Promise<void>;
  /** Erases the disk (a blank DPU). Only called while stopped. */
  wipe(): Promise<void>;
  /**
   * Boots the installed OS: init, hostname, sshd. Rejects when nothing is installed. `media` are the media the
   * BMC attached besides the boot source: a NoCloud `cidata` volume among them is the DPU's Day-0 identity.
   */
  start(media?: readonly AttachedMedium[]): Promise<void>;
  /**
   * Hard stop, like pulling power: every process of the DPU ends, runtime configuration of the data ports
   * (addresses, VLAN links, routes, MTU) is flushed. Resolves once nothing of the DPU runs.
   */
  stop(): Promise<void>;
  /** True while the OS runs (after `start`, before `stop`). */
  running(): boolean;
  /** Fault: stop (true) or restart (false) sshd without touching other processes. */
  setSshDown(down: boolean): Promise<void>;
  /** Fault: end every established SSH connection (the listener stays). */
  dropSshConnections(): Promise<void>;
}

/** Faults a BMC can be told to inject. Counters count down as they fire. */
export interface BmcFaultSettings {
  /** Added latency on every response, in ms. */
  latencyMs: number;
  /** The next N requests are answered 503 with a Redfish error body and `Retry-After: 1`. */
  fail503Count: number;
  /** The next N requests have their TCP connection destroyed without a response. */
  tcpResetCount: number;
  /** Every task the BMC starts takes at least this long (ms) before it completes. */
  taskDelayMs: number;
  /** The next N tasks end in TaskState `Exception`. */
  taskFailCount: number;
  /** The next N boots fail: BootProgress stops before the OS, no OS comes up. */
  bootFailCount: number;
  /**
   * The next N PATCHes find their resource changed by another client just before they arrive: the resource's
   * ETag moves on (a later GET shows the new tag), so a PATCH carrying the old tag in If-Match gets 412.
   */
  etagConflictCount: number;
  /** Field misbehaviour: the next N media inserts (InsertMedia, or a PATCH of `Image`) answer 204 and attach nothing. */
  insertNoAttachCount: number;
  /** Field misbehaviour: ETag form served: 0 strong `"x"`, 1 double-quoted `""x""`, 2 weak only `W/"x"` (a weak If-Match gets 412). */
  etagStyle: number;
  /** Field misbehaviour: 1 = a POST carrying `If-Match` is refused with 412 PreconditionFailed. */
  rejectIfMatchOnPost: number;
  /** Field misbehaviour: the next N session logins answer 503 `SessionLimitExceeded` (limit of simultaneous sessions reached). */
  sessionLimitCount: number;
  /** Field misbehaviour: the next N actions answer 202 with `Location` to a task monitor instead of their result. */
  asyncActionCount: number;
  /** Field misbehaviour: the task monitors of the next N tasks answer 404 from their second poll on (the Task stays). */
  taskMonitorGoneCount: number;
}

/** What the BMC knows of its DPU, for the dashboard, the control API and tests. */
export interface BmcSnapshot {
  readonly name: string;
  readonly profile: BmcProfileName;
  readonly powerState: "On" | "Off" | "PoweringOn" | "PoweringOff";
  readonly bootProgress: { readonly lastState: string; readonly oemLastState?: string };
  readonly override: { readonly enabled: string; readonly target: string; readonly httpBootUri?: string };
  readonly media: { readonly inserted: boolean; readonly image?: string };
  /** Media inserted in the other slots (slot URI → image URL): the DPU sees them at boot. */
  readonly extraMedia?: Readonly<Record<string, string>>;
  /** Why a medium of another slot was absent at the last boot. */
  readonly lastMediaError?: string;
  readonly installedImage?: BootImage;
  readonly lastBootError?: string;
  /** Requests served since start, by method (benchmarks count Redfish requests with this). */
  readonly requests: Readonly<Record<string, number>>;
  readonly activeSessions: number;
}

/** A running simulated BMC. */
export interface SimBmc {
  readonly name: string;
  readonly profile: BmcProfileName;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Id of the ComputerSystem that is the DPU (`Bluefield` on the BlueField-like profile). */
  readonly systemId: string;
  /** Merges fault settings (absent keys unchanged). */
  setFaults(faults: Partial<BmcFaultSettings>): void;
  /** Ends every session now (the next request with an old token gets 401). */
  expireSessions(): void;
  /** Resets faults to none. */
  clearFaults(): void;
  snapshot(): BmcSnapshot;
  /** Powers the DPU on with its installed image and waits until the OS runs (used at lab start). */
  powerOnAndWait(): Promise<void>;
  /** Stops the server and powers the DPU off. */
  close(): Promise<void>;
}

/** Options to create one BMC. */
export interface BmcOptions {
  readonly name: string;
  readonly profile: BmcProfileName;
  readonly backend: DpuOsBackend;
  /** PEM key and certificate chain (server certificate signed by the lab CA) for HTTPS. */
  readonly tls: { readonly key: string; readonly cert: string };
  /** CA file the BMC trusts when it fetches HTTPS images. */
  readonly caFile?: string;
  readonly host?: string;
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  /** Time from reset to OS running, in ms (0 allowed). Default 3000. */
  readonly bootTimeMs?: number;
  /** Session idle expiry, in ms. Default 30 min. */
  readonly sessionIdleTimeoutMs?: number;
  /** Maximum concurrent sessions. Default 16. */
  readonly maxSessions?: number;
  /** Serial number, UUID and similar identity; derived from the name when absent. */
  readonly serial?: string;
}

/** The endpoints file the `sim` command writes once every DPU is ready (also returned by the library). */
export interface EndpointsFile {
  readonly dpus: readonly {
    readonly name: string;
    readonly profile: BmcProfileName;
    readonly bmc: {
      readonly url: string;
      readonly username: string;
      readonly password: string;
      readonly caCertFile: string;
      readonly systemId: string;
    };
    readonly ssh: {
      readonly host: string;
      readonly port: number;
      readonly username: string;
      readonly privateKeyFile: string;
      readonly hostKeyFingerprint: string;
    };
    /** Data-port MACs and names, as the DPU shows them. */
    readonly ports: readonly DpuPort[];
  }[];
  readonly control: { readonly url: string };
  readonly images: { readonly baseUrl: string; readonly files: readonly ImageFileInfo[] };
}

/** An image the lab's image server offers. */
export interface ImageFileInfo {
  readonly name: string;
  readonly url: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly kind: "iso" | "bfb" | "other";
  readonly label?: string;
}
