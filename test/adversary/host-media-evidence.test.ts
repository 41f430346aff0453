import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portOf, startRequestLog } from "../../bench/request-log";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { bmcAdmin, control, image, inputsFor, labAvailable } from "../dpu-host/helpers";

// Issue 15 item 3: DpuHost no longer reads the slot between the insert and the reset; one GET right after the
// reset is the evidence that the image was in the slot. A BMC that answers InsertMedia 204 without attaching
// anything (misbehaviour insertNoAttachCount) must still be caught, and the install never recorded on the
// strength of the boot the reset started from the old disk. Re-image sends the insert to the target kept in
// state: media put in the slot behind Pulumi's back makes the BMC refuse it, and the slot is read again then.

const have = labAvailable();
const SLOT = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";

describe.skipIf(!have)("DpuHost: evidence that the image was in the slot (generic profile)", () => {
  let lab: Lab;
  let lines: string[] = [];
  let restore: () => void;
  beforeAll(async () => {
    restore = setLogSink((_l, line) => lines.push(line));
    lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  });
  afterAll(async () => {
    restore?.();
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });
  const bmc = () => [...lab.dpus.values()][0]!.bmc;

  it("InsertMedia answered 204 without attaching: caught right after the reset, inserted again (verified), reset again; the install is the image's", async () => {
    const ep = lab.endpoints;
    // BootProgress is the only witness (no ready.ssh): the boot the first reset started (the old disk) must
    // not count. A short image timeout: the old code waited for the slot to show the image until it.
    const base = inputsFor(ep, 0, "dpu-os-1.1.iso", { ssh: false });
    const news = { ...base, image: { ...base.image, timeoutMs: 4000 } };
    await control(ep, `/bmc/${ep.dpus[0]!.name}/faults`, { insertNoAttachCount: 1 });
    lines = [];
    const log = startRequestLog();
    let outs: DpuHostOutputs;
    try {
      outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    } finally {
      log.stop();
    }
    const reqs = log.forPort(portOf(ep.dpus[0]!.bmc.url)).map((r) => `${r.method} ${r.path}`);
    const resets = reqs.filter((r) => r.endsWith("ComputerSystem.Reset"));
    const inserts = reqs.filter((r) => r.endsWith("VirtualMedia.InsertMedia"));
    expect(resets).toHaveLength(2);
    expect(inserts).toHaveLength(2);
    // The slot was read right after the first reset (the check that caught it).
    const firstReset = reqs.findIndex((r) => r.endsWith("ComputerSystem.Reset"));
    expect(reqs[firstReset + 1]).toBe(`GET ${SLOT}`);
    expect(
      lines.some((l) => /without attaching it; inserting again \(verified\) and resetting again/.test(l)),
    ).toBe(true);
    const want = image(ep, "dpu-os-1.1.iso").sha256;
    expect(outs.installedImage?.sha256).toBe(want);
    expect(outs.installedImage?.observedBy).toBe("bootProgress");
    // What the simulated DPU really booted: the image, from the second reset.
    expect(bmc().snapshot().installedImage?.sha256).toBe(want);
    expect(bmc().snapshot().media.inserted).toBe(false);
  });

  it("re-image with media put in the slot behind Pulumi's back: the kept target is refused, the slot read again, emptied, and the image inserted", async () => {
    const ep = lab.endpoints;
    const created = await dpuHost.create!(inputsFor(ep, 0, "dpu-os-1.1.iso"));
    const d = ep.dpus[0]!;
    const admin = bmcAdmin(ep, 0);
    const other = image(ep, "dpu-os-1.0.iso").url;
    await admin.post(`${SLOT}/Actions/VirtualMedia.InsertMedia`, { Image: other }, { action: "insert" });
    await admin.close();
    const log = startRequestLog();
    let outs: DpuHostOutputs;
    try {
      const updated = await dpuHost.update!(
        created.id,
        created.outs as DpuHostOutputs,
        inputsFor(ep, 0, "dpu-os-2.0.iso"),
      );
      outs = updated.outs as DpuHostOutputs;
    } finally {
      log.stop();
    }
    const reqs = log.forPort(portOf(d.bmc.url)).map((r) => `${r.method} ${r.path}`);
    const firstReset = reqs.findIndex((r) => r.endsWith("ComputerSystem.Reset"));
    // Before the reset: the refused insert, the read, the eject, the insert again.
    expect(reqs.slice(0, firstReset).filter((r) => r.endsWith("InsertMedia"))).toHaveLength(2);
    expect(reqs.slice(0, firstReset).filter((r) => r.endsWith("EjectMedia"))).toHaveLength(1);
    expect(reqs.filter((r) => r.endsWith("ComputerSystem.Reset"))).toHaveLength(1);
    const want = image(ep, "dpu-os-2.0.iso").sha256;
    expect(outs.installedImage?.sha256).toBe(want);
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(want);
    expect(bmc().snapshot().installedImage?.sha256).toBe(want);
  });
});
