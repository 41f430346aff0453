import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, rf, SHARED, sharedAvailable, startLab, USER } from "../sim-bmc/harness";

/**
 * Issue 17 item 2: a BFB declared for another BlueField generation (`image.platform`) than the one the BMC
 * reports is refused before any request that changes state (the BMC counts no POST, PATCH or DELETE), and the
 * error names both platforms and the field that reported the BMC's. The oracle for what the BMC reports is the
 * NVIDIA BlueField BMC capture's card chassis (its file, read here without the simulator).
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";

/** `Model` of the NVIDIA capture's DPU card chassis (`Chassis/Card1`), read from its file. */
function capturedCardModel(): string {
  const file = join(SHARED, "mockups/nvidia-bluefield-bmc/redfish/v1/Chassis/Card1/index.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { Model: string }).Model;
}

describe.skipIf(SKIP)(
  "DpuHost: a BFB for another BlueField generation is refused before anything changes",
  () => {
    let lab: Lab;
    let restore: (() => void) | undefined;
    const bmc = async (p: BmcProfileName): Promise<{ b: SimBmc; backend: FakeBackend }> => {
      const backend = new FakeBackend(`plat-${p}-${Date.now()}`, preinstalled());
      const { bmc: b } = await lab.bmc(p, { backend });
      await b.powerOnAndWait();
      return { b, backend };
    };
    const news = (b: SimBmc, platform: string): Record<string, unknown> => ({
      bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
      image: { url: lab.url(BFB), timeoutMs: 20_000, platform },
      ready: { timeoutMs: 20_000 },
    });
    const changes = (r: Readonly<Record<string, number>>): number =>
      (r.POST ?? 0) + (r.PATCH ?? 0) + (r.PUT ?? 0) + (r.DELETE ?? 0);
    /** The generation a Model names, by the test's own reading (not the provider's). */
    const generation = (model: string): string => `BlueField-${/(\d)/.exec(model)?.[1] ?? "?"}`;

    beforeAll(async () => {
      lab = await startLab();
      restore = setLogSink(() => undefined);
    }, 60_000);
    afterAll(async () => {
      restore?.();
      await closeAllPools();
      await lab?.close();
    });

    for (const profile of ["capture-bluefield", "quirk-bluefield-new", "bluefield"] as const) {
      it(`${profile}: image.platform BlueField-2 on the BlueField-3 the BMC reports is refused with no POST/PATCH/DELETE, naming both platforms and the field`, async () => {
        const { b, backend } = await bmc(profile);
        const card = (await rf(b, lab.pki.caPem, "GET", "/redfish/v1/Chassis/Card1")).json as {
          Model: string;
        };
        if (profile !== "bluefield") expect(card.Model).toBe(capturedCardModel());
        const reported = generation(card.Model);
        expect(reported).toBe("BlueField-3");
        const installedBefore = backend.installedImage()?.url;
        const before = b.snapshot().requests;
        const checked = await dpuHost.check?.({}, news(b, "BlueField-2"));
        expect(checked?.failures ?? []).toEqual([]);
        const err = await dpuHost.create?.(checked?.inputs).catch((e: unknown) => e);
        const text = String(err);
        expect(text).toContain("image.platform is BlueField-2");
        expect(text).toContain(`the BMC reports ${reported}`);
        expect(text).toContain(`/redfish/v1/Chassis/Card1 Model ${JSON.stringify(card.Model)}`);
        expect(text).toMatch(/Nothing was changed/);
        const after = b.snapshot().requests;
        expect((after.GET ?? 0) - (before.GET ?? 0)).toBeGreaterThan(0);
        expect(changes(after) - changes(before)).toBe(0);
        expect(backend.installedImage()?.url).toBe(installedBefore);
      });
    }

    it("quirk-bluefield-new: the matching image.platform (BlueField-3) installs the BFB", async () => {
      const { b } = await bmc("quirk-bluefield-new");
      const checked = await dpuHost.check?.({}, news(b, "BlueField-3"));
      const created = (await dpuHost.create?.(checked?.inputs)) as { id: string; outs: DpuHostOutputs };
      expect(created.outs.installedImage?.method).toBe("simpleUpdate");
    });

    it("check(): an image.platform that names no BlueField generation is refused in preview", async () => {
      const { b } = await bmc("bluefield");
      const checked = await dpuHost.check?.({}, news(b, "BF3"));
      expect(checked?.failures?.map((f) => f.property)).toContain("image.platform");
    });
  },
);
