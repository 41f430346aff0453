import type { AttachedMedium, BootImage, DpuOsBackend, InstallExtras } from "../contracts";
import { fetchBootImage, fetchImage, ImageFetchError } from "./fetch-image";
import type { ProfileDef } from "./profiles";
import { Cancelled, sleep } from "./sleep";
import { type BmcState, nowIso } from "./state";

/** DMTF BootProgress states before the OS, in order. */
const DMTF_PRE_OS = [
  "PrimaryProcessorInitializationStarted",
  "MemoryInitializationStarted",
  "PCIResourceConfigStarted",
  "SystemHardwareInitializationComplete",
] as const;
/** BlueField `OemLastState` values before the OS. */
const OEM_PRE_OS = ["BootRom", "BL2", "BL31", "UEFI"] as const;

/** How long a boot waits for a medium of another slot before it boots without it. */
const EXTRA_MEDIUM_TIMEOUT_MS = 30_000;

/** A boot that cannot reach the OS; BootProgress stays where it was. */
class BootFailure extends Error {}

/** Where the next boot takes its OS from. */
type BootSource =
  | { kind: "media"; url: string; downloaded?: BootImage; once: boolean }
  | { kind: "http"; url: string | undefined; once: boolean }
  | { kind: "staged"; image: BootImage; extras: InstallExtras; once: boolean }
  | { kind: "disk"; once: boolean };

/** Dependencies of the boot controller. */
export interface BootDeps {
  readonly state: BmcState;
  readonly profile: ProfileDef;
  readonly backend: DpuOsBackend;
  readonly bootTimeMs: number;
  readonly ca: () => string | undefined;
  readonly signal: AbortSignal;
  /** Called at every power-on (from Off, or through a restart): a host server's BMC tells the DPUs it carries. */
  readonly onPowerOn?: () => void;
}

/**
 * The DPU's power and boot timeline. One job at a time (a promise chain); a newer reset supersedes
 * the running job at its next step. The backend is stopped during the whole boot: the DPU is unreachable.
 */
export class BootController {
  private gen = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly d: BootDeps) {}

  private setProgress(stage: "pre" | "booting" | "running" | "none" | "update", index = 0): void {
    const s = this.d.state;
    const time = nowIso();
    if (stage === "none") {
      s.bootProgress = { lastState: "None", time };
    } else if (this.d.profile.oemBootProgress) {
      const oem =
        stage === "pre"
          ? OEM_PRE_OS[index]
          : stage === "booting"
            ? "OsStarting"
            : stage === "running"
              ? "OsIsRunning"
              : "FirmwareUpdateInProgress";
      s.bootProgress = { lastState: "OEM", oemLastState: oem, time };
    } else {
      const last =
        stage === "pre"
          ? DMTF_PRE_OS[index]
          : stage === "booting" || stage === "update"
            ? "OSBootStarted"
            : "OSRunning";
      s.bootProgress = { lastState: last ?? "None", time };
    }
  }

  private enqueue(job: (gen: number) => Promise<void>): Promise<void> {
    const gen = ++this.gen;
    const run = this.chain.then(async () => {
      try {
        await job(gen);
      } catch (e) {
        if (e instanceof Cancelled) return;
        if (e instanceof BootFailure) {
          this.d.state.lastBootError = e.message;
          return;
        }
        this.d.state.lastBootError = e instanceof Error ? e.message : String(e);
      }
    });
    this.chain = run;
    return run;
  }

  private check(gen: number): void {
    if (gen !== this.gen || this.d.signal.aborted) throw new Cancelled();
  }

  private async step(gen: number, ms: number): Promise<void> {
    await sleep(ms, this.d.signal);
    this.check(gen);
  }

  /** Applies pending Settings-object boot changes (they take effect at reset). */
  private applyPending(): void {
    const s = this.d.state;
    if (!s.pending) return;
    s.override = { ...s.override, ...s.pending };
    s.pending = undefined;
  }

  private chooseSource(): BootSource {
    const s = this.d.state;
    const o = s.override;
    if (o.enabled !== "Disabled") {
      const once = o.enabled === "Once";
      if (o.target === "Cd" && s.media.inserted && s.media.image) {
        return { kind: "media", url: s.media.image, downloaded: s.media.downloaded, once };
      }
      if (o.target === "UefiHttp") return { kind: "http", url: o.httpBootUri, once };
    }
    // Any other target (Pxe, Hdd, Usb, BiosSetup, Cd without media…) falls through to the disk, and a
    // `Once` override is still spent by this boot cycle (ComputerSystem BootSourceOverrideEnabled: "On its
    // next boot cycle, the system boots one time to the boot source override target. Then, the
    // BootSourceOverrideEnabled value is reset to Disabled").
    const once = o.enabled === "Once";
    if (s.staged) return { kind: "staged", image: s.staged, extras: s.stagedExtras ?? {}, once };
    return { kind: "disk", once };
  }

  /** Powers off: backend stopped, PowerState Off. */
  powerOff(): Promise<void> {
    const s = this.d.state;
    s.power = "PoweringOff";
    return this.enqueue(async (gen) => {
      await this.d.backend.stop();
      this.check(gen);
      s.power = "Off";
      this.setProgress("none");
    });
  }

  /** Resets (or powers on) and boots per the override; resolves when the boot ended (OS up or failed). */
  reset(): Promise<void> {
    const s = this.d.state;
    this.applyPending();
    s.lastResetTime = nowIso();
    s.lastBootError = undefined;
    s.lastMediaError = undefined;
    s.power = "PoweringOn";
    this.setProgress("pre", 0);
    this.d.onPowerOn?.();
    return this.enqueue(async (gen) => {
      const source = this.chooseSource();
      await this.d.backend.stop();
      this.check(gen);
      await this.boot(gen, source);
    });
  }

  /**
   * BlueField SimpleUpdate: stops the DPU, writes `image`, calls `onInstalled` (the task completes), then
   * boots the new OS. Resolves when the boot ended.
   */
  installAndBoot(image: BootImage, onInstalled: () => void, extras: InstallExtras = {}): Promise<void> {
    const s = this.d.state;
    return this.enqueue(async (gen) => {
      s.lastBootError = undefined;
      this.setProgress("update");
      await this.d.backend.stop();
      this.check(gen);
      await this.d.backend.install(image, extras);
      this.check(gen);
      s.lastResetTime = nowIso();
      s.power = "PoweringOn";
      this.setProgress("pre", 0);
      onInstalled();
      await this.boot(gen, { kind: "disk", once: false });
    });
  }

  private async boot(gen: number, source: BootSource): Promise<void> {
    const s = this.d.state;
    const b = this.d.backend;
    const stepMs = this.d.bootTimeMs / 6;
    for (let i = 0; i < 4; i++) {
      this.setProgress("pre", i);
      if (i === 1) s.power = "On";
      await this.step(gen, i === 0 ? stepMs : stepMs / 2);
    }
    s.power = "On";
    // NIC mode: the Arm cores run no OS; the boot ends in UEFI (NVIDIA BlueField BMC, "BlueField Arm State": boot
    // completes at UEFI in NIC mode; DOCA "BlueField Modes of Operation": Arm cores inactive in NIC mode).
    if (s.mode?.effective === "NicMode") {
      this.setProgress("pre", OEM_PRE_OS.length - 1);
      return;
    }
    // Firmware stage: find and load the OS.
    if (s.faults.bootFailCount > 0) {
      s.faults.bootFailCount--;
      throw new BootFailure("boot failed before the OS: simulated firmware fault (bootFailCount)");
    }
    let viaOverride = false;
    if (source.kind === "media" || source.kind === "http") {
      if (!source.url)
        throw new BootFailure("UEFI HTTP boot: no HttpBootUri set and no DHCP boot URL in the lab");
      let image = source.kind === "media" ? source.downloaded : undefined;
      if (!image) {
        try {
          image = await fetchBootImage(source.url, this.d.ca(), this.d.signal);
        } catch (e) {
          const detail = e instanceof ImageFetchError ? `${e.redfish.MessageId}: ${e.message}` : String(e);
          throw new BootFailure(`cannot load boot image ${source.url}: ${detail}`);
        }
        this.check(gen);
      }
      if (image.kind !== "iso") {
        throw new BootFailure(`boot image ${source.url} is a ${image.kind}, not bootable ISO9660 media`);
      }
      await b.install(image);
      this.check(gen);
      viaOverride = source.once;
    } else if (source.kind === "staged") {
      await b.install(source.image, source.extras);
      this.check(gen);
      s.staged = undefined;
      s.stagedExtras = undefined;
      // The staged BFB is the one running now (its version in the DPU_OS inventory item).
      if (s.stagedBundle) s.installedBundle = s.stagedBundle;
      s.stagedBundle = undefined;
      viaOverride = source.once;
    } else if (!b.installedImage()) {
      throw new BootFailure("no bootable device: the DPU disk is blank and no boot override is set");
    } else viaOverride = source.once;
    await this.step(gen, stepMs);
    this.setProgress("booting");
    if (viaOverride) s.override = { ...s.override, enabled: "Disabled", target: "None" };
    const media = await this.attachedMedia();
    this.check(gen);
    await this.step(gen, stepMs);
    await b.start(media);
    this.check(gen);
    this.setProgress("running");
  }

  /**
   * The media of the other slots, as the DPU sees them at this boot: each fetched like the boot CD (streamed).
   * A medium that cannot be fetched is absent for the OS (a real BMC shows an empty drive); the boot goes on.
   */
  private async attachedMedia(): Promise<AttachedMedium[]> {
    const out: AttachedMedium[] = [];
    for (const [slot, url] of Object.entries(this.d.state.extraMedia)) {
      try {
        const { bytes } = await fetchImage(url, this.d.ca(), this.d.signal, EXTRA_MEDIUM_TIMEOUT_MS);
        out.push({ slot, url, bytes });
      } catch (e) {
        if (this.d.signal.aborted) throw new Cancelled();
        this.d.state.lastMediaError = `${slot}: cannot read ${url}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return out;
  }

  /** Abandons whatever runs now. */
  cancel(): void {
    this.gen++;
  }

  /** Resolves when the current job queue is idle. */
  idle(): Promise<void> {
    return this.chain;
  }
}
