import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureVmImage } from "../../simulator/vm";
import { vmLabUnavailable } from "./vm-lab";

const missing = vmLabUnavailable();

/** `key value` lines of a build manifest (up to the package list). */
function fields(manifest: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of manifest.split("\n")) {
    if (line.startsWith("packages:")) break;
    const [k, ...v] = line.split(" ");
    if (k) out[k] = v.join(" ");
  }
  return out;
}

describe.skipIf(missing !== undefined)("the DPU OS image build", () => {
  const dir = mkdtempSync(join(tmpdir(), "dpu-vm-image-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is reproducible: a second build from the same package versions gives the same ISO, byte for byte", async () => {
    const cached = await ensureVmImage(); // built (or cached) for the VM proof
    const again = await ensureVmImage({ cacheDir: dir });
    expect(again.built).toBe(true);
    const a = fields(cached.manifest);
    const b = fields(again.manifest);
    // Same inputs (script, label, apt sources) and the same package versions…
    expect(again.inputsHash).toBe(cached.inputsHash);
    expect(again.manifest.slice(again.manifest.indexOf("packages:"))).toBe(
      cached.manifest.slice(cached.manifest.indexOf("packages:")),
    );
    // …give the same image.
    expect(b.iso_sha256).toBe(a.iso_sha256);
    console.log(
      `DPU OS image ${a.label}: kernel ${a.kernel}, ISO ${(Number(a.iso_bytes) / 2 ** 20).toFixed(1)} MiB (root squashfs ${(Number(a.squashfs_bytes) / 2 ** 20).toFixed(1)} MiB of a ${(Number(a.rootfs_bytes) / 2 ** 20).toFixed(0)} MiB root, kernel ${(Number(a.kernel_bytes) / 2 ** 20).toFixed(1)} MiB, initramfs ${(Number(a.initrd_bytes) / 2 ** 20).toFixed(1)} MiB); rebuilt in ${(again.buildMs / 1000).toFixed(0)} s, sha256 ${b.iso_sha256}`,
    );
  });
});
