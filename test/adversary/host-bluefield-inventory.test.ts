import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { type Lab, rf, SHARED, sharedAvailable, startLab, waitFor } from "../sim-bmc/harness";
import { bfbHostProps, bfbVersion, poweredBmc } from "./bluefield-sim";

/**
 * Issue 17 item 4: DpuHost outputs the firmware versions the BMC's UpdateService/FirmwareInventory reports
 * (DPU_OS, ATF, UEFI, NIC firmware, the BMC), re-read by read() within its request budget, and fails an install
 * whose firmware differs from `image.expectFirmware`. The oracle for the versions is the NVIDIA BlueField BMC
 * capture itself (its files, read here without the simulator) and the BFB header the bundle declares.
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";
const OTHER_BFB = "bf-bundle-4.9.bfb";
const INVENTORY = "/redfish/v1/UpdateService/FirmwareInventory";

/** `Version` of one FirmwareInventory member of the NVIDIA capture, read from its file. */
function captured(id: string): string {
  const file = join(
    SHARED,
    "mockups/nvidia-bluefield-bmc/redfish/v1/UpdateService/FirmwareInventory",
    id,
    "index.json",
  );
  return (JSON.parse(readFileSync(file, "utf8")) as { Version: string }).Version;
}

describe.skipIf(SKIP)("DpuHost: firmware inventory as outputs (BlueField)", () => {
  let lab: Lab;
  let restore: (() => void) | undefined;
  const bmc = (p: BmcProfileName): Promise<SimBmc> => poweredBmc(lab, "inv", p);
  const version = (name: string): string => bfbVersion(lab, name);
  const news = (b: SimBmc, image: Record<string, unknown> = {}): Record<string, unknown> =>
    bfbHostProps(lab, b, BFB, image);
  const create = async (props: Record<string, unknown>): Promise<{ id: string; outs: DpuHostOutputs }> => {
    const checked = await dpuHost.check?.({}, props);
    expect(checked?.failures ?? []).toEqual([]);
    return (await dpuHost.create?.(checked?.inputs)) as { id: string; outs: DpuHostOutputs };
  };

  beforeAll(async () => {
    lab = await startLab();
    restore = setLogSink(() => undefined);
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    await lab?.close();
  });

  it("quirk-bluefield-new: outputs the captured ATF/UEFI/NIC/BMC versions and the installed bundle's DPU_OS version; read() re-reads them in ≤ 2 requests and shows drift after an out-of-band BFB", async () => {
    const b = await bmc("quirk-bluefield-new");
    // As captured until an install happens (the capture's odd "ion:" included).
    const before = await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/DPU_OS`);
    expect(before.json.Version).toBe(captured("DPU_OS"));
    const created = await create(news(b));
    expect(created.outs.firmware).toEqual({
      dpuOs: version(BFB),
      atf: captured("DPU_ATF"),
      uefi: captured("DPU_UEFI"),
      nic: captured("DPU_NIC"),
      bmc: captured("BMC_Firmware"),
    });
    const r0 = b.snapshot().requests;
    const seen = await dpuHost.read?.(created.id, created.outs);
    const r1 = b.snapshot().requests;
    const sent = Object.keys(r1).reduce((n, k) => n + ((r1[k] ?? 0) - (r0[k] ?? 0)), 0);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(2);
    expect((seen?.props as DpuHostOutputs | undefined)?.firmware).toEqual(created.outs.firmware);
    // Someone installs another BFB behind the stack's back: refresh shows the DPU_OS drift.
    const post = await rf(
      b,
      lab.pki.caPem,
      "POST",
      "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
      {
        body: { ImageURI: lab.url(OTHER_BFB), TransferProtocol: "HTTP", Targets: [`${INVENTORY}/DPU_OS`] },
      },
    );
    expect(post.status).toBe(202);
    await waitFor(
      async () =>
        (await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/DPU_OS`)).json.Version === version(OTHER_BFB),
      "out-of-band BFB installed",
    );
    const again = await dpuHost.read?.(created.id, seen?.props as DpuHostOutputs);
    expect((again?.props as DpuHostOutputs | undefined)?.firmware?.dpuOs).toBe(version(OTHER_BFB));
    expect((again?.props as DpuHostOutputs | undefined)?.firmware?.nic).toBe(captured("DPU_NIC"));
  });

  it("quirk-bluefield-new: image.expectFirmware that the BMC does not report fails the install naming the component, the expected and the reported version (partial resource kept)", async () => {
    const b = await bmc("quirk-bluefield-new");
    const wantNic = "99.99.9999";
    const err = (await create(news(b, { expectFirmware: { dpuOs: version(BFB), nic: wantNic } })).catch(
      (e: unknown) => e,
    )) as Error & { id?: string; properties?: DpuHostOutputs };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(
      `nic (FirmwareInventory DPU_NIC): expected "${wantNic}", the BMC reports "${captured("DPU_NIC")}"`,
    );
    expect(err.message).not.toMatch(/dpuOs/);
    expect(typeof err.id).toBe("string");
    expect(err.properties?.firmware?.nic).toBe(captured("DPU_NIC"));
    // The next `up` (the engine updates the partial resource with the same inputs) fails as clearly again.
    const same = (
      await dpuHost.check?.({}, news(b, { expectFirmware: { dpuOs: version(BFB), nic: wantNic } }))
    )?.inputs;
    const again = await dpuHost
      .update?.(err.id as string, err.properties as DpuHostOutputs, same)
      .catch((e: unknown) => e);
    expect(String(again)).toContain(`expected "${wantNic}", the BMC reports "${captured("DPU_NIC")}"`);
    // With the expectation corrected, the update records the match (nothing reinstalled).
    const fixed = (
      await dpuHost.check?.(
        {},
        news(b, { expectFirmware: { dpuOs: version(BFB), nic: captured("DPU_NIC") } }),
      )
    )?.inputs;
    const updated = await dpuHost.update?.(err.id as string, err.properties as DpuHostOutputs, fixed);
    expect((updated?.outs as DpuHostOutputs | undefined)?.firmware?.nic).toBe(captured("DPU_NIC"));
    expect((updated?.outs as DpuHostOutputs | undefined)?.installedImage?.installedAt).toBe(
      err.properties?.installedImage?.installedAt,
    );
    // A fresh create with the matching expectation passes.
    const ok = await create(news(b, { expectFirmware: { dpuOs: version(BFB), nic: captured("DPU_NIC") } }));
    expect(ok.outs.firmware?.dpuOs).toBe(version(BFB));
  });

  it("bluefield (synthetic): only what its inventory lists (DPU_OS, BMC); ATF/UEFI/NIC stay absent, never invented", async () => {
    const b = await bmc("bluefield");
    const listed = await rf(b, lab.pki.caPem, "GET", INVENTORY);
    const ids = (listed.json.Members as { "@odata.id": string }[]).map((m) =>
      m["@odata.id"].split("/").pop(),
    );
    const created = await create(news(b));
    const os = await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/DPU_OS`);
    const bmcItem = ids.find((i) => i === "BMC_Firmware" || i === "BMC") as string;
    const fw = await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/${bmcItem}`);
    expect(created.outs.firmware).toEqual({ dpuOs: os.json.Version, bmc: fw.json.Version });
    expect(created.outs.firmware?.atf).toBeUndefined();
  });
});
