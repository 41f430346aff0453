import type { BootImage, DpuOsBackend, DpuPort } from "../../simulator/contracts";

/**
 * In-memory DpuOsBackend for BMC tests: records every call and enforces the contract's preconditions
 * (install/wipe only while stopped, start only with an image).
 */
export class FakeBackend implements DpuOsBackend {
  readonly ports: readonly DpuPort[];
  readonly calls: string[] = [];
  private image: BootImage | undefined;
  private up = false;
  /** Images installed, in order. */
  readonly installs: BootImage[] = [];

  constructor(
    readonly name: string,
    installed?: BootImage,
  ) {
    this.image = installed;
    const n = Number.parseInt(name.replace(/\D/g, "") || "0", 10) % 256;
    const hex = n.toString(16).padStart(2, "0");
    this.ports = [
      { name: "oob_net0", mac: `02:00:00:00:${hex}:01` },
      { name: "p0", mac: `02:00:00:00:${hex}:10` },
      { name: "p1", mac: `02:00:00:00:${hex}:11` },
    ];
  }

  installedImage(): BootImage | undefined {
    return this.image;
  }

  async install(image: BootImage): Promise<void> {
    this.calls.push(`install:${image.label}`);
    if (this.up) throw new Error("install while running");
    this.image = image;
    this.installs.push(image);
  }

  async wipe(): Promise<void> {
    this.calls.push("wipe");
    if (this.up) throw new Error("wipe while running");
    this.image = undefined;
  }

  async start(): Promise<void> {
    this.calls.push("start");
    if (!this.image) throw new Error("nothing installed");
    this.up = true;
  }

  async stop(): Promise<void> {
    this.calls.push("stop");
    this.up = false;
  }

  running(): boolean {
    return this.up;
  }

  async setSshDown(_down: boolean): Promise<void> {}

  async dropSshConnections(): Promise<void> {}
}

/** A BootImage as if DPU OS 1.0 were already on disk (the sha256 is the real one only for labels we check). */
export function preinstalled(label = "DPUOS_1_0"): BootImage {
  return {
    url: "http://127.0.0.1/preinstalled.iso",
    sha256: "0".repeat(64),
    sizeBytes: 1,
    kind: "iso",
    label,
  };
}
