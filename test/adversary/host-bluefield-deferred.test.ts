import { readFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { activationState, bfbStallStage } from "../../provider/host/deferred-update";
import { setLogSink } from "../../provider/log";
import { closeAllPools, type SystemState } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { type Lab, rf, SHARED, sharedAvailable, startLab, waitFor } from "../sim-bmc/harness";
import { RedfishSchemas } from "../sim-bmc/redfish-schemas";
import { bfbHostProps, bfbVersion, poweredBmc } from "./bluefield-sim";

/**
 * Issue 17 item 5 (offline and deferred updates) and item 1's "name the stage that stalled". NVIDIA's BlueField
 * BMC documents an Offline Update Flow (the DPU goes out of service while the BMC installs) and, on BlueField-3, a
 * Deferred Update Flow (staged, active after a reset): "Deploying Software Using BFB", BMC software v25.10. DpuHost
 * asks for it the Redfish way (`@Redfish.OperationApplyTime: OnReset`, DSP0266), only where the SimpleUpdate
 * action advertises it. Oracles: the NVIDIA capture's UpdateService file (what it advertises, read here without
 * the simulator), the BFB header the bundle declares, and the capture's DPU_OS version.
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";
const INVENTORY = "/redfish/v1/UpdateService/FirmwareInventory";
const RESET = "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset";

function capturedJson(rel: string): Record<string, unknown> {
  const file = join(SHARED, "mockups/nvidia-bluefield-bmc/redfish/v1", rel, "index.json");
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** A system state as the BMC would report it, for the pure decisions below. */
function sys(bootProgress: string, bootProgressTime: string): SystemState {
  return {
    powerState: "On",
    rawPowerState: "On",
    bootProgress,
    bootProgressTime,
    override: { enabled: "Disabled", target: "None" },
  };
}

describe.skipIf(SKIP)("DpuHost: offline and deferred BFB updates (BlueField)", () => {
  let lab: Lab;
  let schemas: RedfishSchemas;
  let restore: (() => void) | undefined;
  const lines: string[] = [];
  const bmc = (p: BmcProfileName): Promise<SimBmc> => poweredBmc(lab, "defer", p);
  const version = (name: string): string => bfbVersion(lab, name);
  const news = (b: SimBmc, image: Record<string, unknown> = {}): Record<string, unknown> =>
    bfbHostProps(lab, b, BFB, image);
  const checked = async (props: Record<string, unknown>): Promise<unknown> => {
    const c = await dpuHost.check?.({}, props);
    expect(c?.failures ?? []).toEqual([]);
    return c?.inputs;
  };
  const create = async (props: Record<string, unknown>): Promise<{ id: string; outs: DpuHostOutputs }> =>
    (await dpuHost.create?.(await checked(props))) as { id: string; outs: DpuHostOutputs };
  const changes = (r: Readonly<Record<string, number>>): number =>
    (r.POST ?? 0) + (r.PATCH ?? 0) + (r.PUT ?? 0) + (r.DELETE ?? 0);
  const osVersion = async (b: SimBmc): Promise<unknown> =>
    (await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/DPU_OS`)).json.Version;

  beforeAll(async () => {
    schemas = new RedfishSchemas(join(SHARED, "schemas"));
    lab = await startLab();
    restore = setLogSink((_level, line) => {
      lines.push(line);
    });
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    await lab?.close();
  });

  for (const profile of ["quirk-bluefield-new", "bluefield"] as const) {
    it(`${profile}: applyTime OnReset (activate nextReset) stages the BFB, read() shows it pending with the old DPU_OS version active; after the operator's reset read() shows the new version and nothing pending`, async () => {
      const b = await bmc(profile);
      const oldVersion = await osVersion(b);
      // The capture-backed profile reports the capture's own DPU_OS version until something is installed.
      if (profile !== "bluefield")
        expect(oldVersion).toBe(capturedJson("UpdateService/FirmwareInventory/DPU_OS").Version);
      // Preview says which flow up runs, and that DpuHost does not reset.
      lines.length = 0;
      const props = news(b, { applyTime: "OnReset" });
      await checked(props);
      expect(lines.join("\n")).toMatch(/stages the update on the BMC and does not reset the DPU/);
      const resetsBefore = b.snapshot().requests;
      const created = await create(props);
      const p = created.outs.pendingActivation;
      expect(p?.url).toBe(lab.url(BFB));
      expect(p?.activeVersion).toBe(oldVersion);
      // One staged member; the capture-backed BMC reports a BFB by its header's version.
      const stagedVersions = Object.values(p?.staged ?? {});
      expect(stagedVersions).toHaveLength(1);
      if (profile !== "bluefield") expect(stagedVersions).toEqual([version(BFB)]);
      // The staged member as the BMC serves it is a valid DMTF SoftwareInventory (the schema is the oracle).
      const member = await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/${Object.keys(p?.staged ?? {})[0]}`);
      expect(member.json.Staged).toBe(true);
      expect(schemas.validate("SoftwareInventory.v1_13_0.json", member.json)).toEqual([]);
      expect(created.outs.firmware?.dpuOs).toBe(oldVersion);
      expect(created.outs.installedImage).toBeUndefined();
      // The BMC holds it; the DPU still runs the old one (the BMC's own inventory says so).
      expect(await osVersion(b)).toBe(oldVersion);
      // Staging sent the SimpleUpdate and nothing else that changes state (no reset).
      expect(changes(b.snapshot().requests) - changes(resetsBefore)).toBe(1);

      // Refresh: still pending, the image not shown as incomplete (the next up has nothing to redo).
      const seen = await dpuHost.read?.(created.id, created.outs);
      const seenOuts = seen?.props as DpuHostOutputs;
      expect(seenOuts.pendingActivation?.activeVersion).toBe(oldVersion);
      expect(seenOuts.firmware?.dpuOs).toBe(oldVersion);
      expect((seen?.inputs as { image?: { url?: string } } | undefined)?.image?.url).toBe(lab.url(BFB));
      const diff = await dpuHost.diff?.(created.id, seenOuts, (await checked(props)) as never);
      expect(diff?.changes).toBe(false);
      // Another change applied while it is staged (ejectAfterInstall) keeps the record of the staged update.
      const other = await dpuHost.update?.(
        created.id,
        seenOuts,
        (await checked({ ...props, ejectAfterInstall: false })) as never,
      );
      expect((other?.outs as DpuHostOutputs | undefined)?.pendingActivation?.url).toBe(lab.url(BFB));

      // The operator resets the DPU (NVIDIA "Reset Control": ComputerSystem.Reset on Systems/Bluefield).
      const reset = await rf(b, lab.pki.caPem, "POST", RESET, { body: { ResetType: "ForceRestart" } });
      expect(reset.status).toBeLessThan(300);
      await waitFor(async () => (await osVersion(b)) !== oldVersion, "staged BFB activated by the reset");
      // What runs after the reset is what the BMC listed as staged.
      const newVersion = await osVersion(b);
      expect(newVersion).toBe(stagedVersions[0]);
      await waitFor(
        async () =>
          JSON.stringify(
            (await rf(b, lab.pki.caPem, "GET", "/redfish/v1/Systems/Bluefield")).json.BootProgress,
          ).includes("OsIsRunning"),
        "the DPU back in its OS",
      );
      const after = await dpuHost.read?.(created.id, seenOuts);
      const afterOuts = after?.props as DpuHostOutputs;
      expect(afterOuts.pendingActivation).toBeUndefined();
      expect(afterOuts.firmware?.dpuOs).toBe(newVersion);
      expect(afterOuts.installedImage?.url).toBe(lab.url(BFB));
    });
  }

  it("quirk-bluefield-new: applyTime OnReset with activate now stages the BFB and DpuHost resets the DPU itself; up ends with the new DPU_OS version, nothing pending", async () => {
    const b = await bmc("quirk-bluefield-new");
    lines.length = 0;
    const created = await create(news(b, { applyTime: "OnReset", activate: "now" }));
    expect(lines.join("\n")).toMatch(/resets the DPU itself to activate it/);
    expect(created.outs.pendingActivation).toBeUndefined();
    expect(created.outs.firmware?.dpuOs).toBe(version(BFB));
    expect(created.outs.installedImage?.method).toBe("simpleUpdate");
    expect(lines.join("\n")).toMatch(/reset system Bluefield with/);
  });

  it("capture-bluefield: applyTime OnReset is refused before any request that changes state, naming what the BMC advertises (the capture: HttpPushUri OnReset, no SimpleUpdate apply time)", async () => {
    const us = capturedJson("UpdateService");
    const su = (us.Actions as Record<string, Record<string, unknown>>)["#UpdateService.SimpleUpdate"];
    expect(su?.["@Redfish.OperationApplyTimeSupport"]).toBeUndefined();
    const pushTime = (us.HttpPushUriOptions as { HttpPushUriApplyTime: { ApplyTime: string } })
      .HttpPushUriApplyTime.ApplyTime;
    const b = await bmc("capture-bluefield");
    const before = b.snapshot().requests;
    const props = news(b, { url: "scp://builder@127.0.0.1/images/bf.bfb", applyTime: "OnReset" });
    const err = await dpuHost.create?.(await checked(props)).catch((e: unknown) => e);
    const text = String(err);
    expect(text).toContain("image.applyTime");
    expect(text).toContain("advertises no @Redfish.OperationApplyTimeSupport");
    expect(text).toContain(`HttpPushUri applies at ${pushTime}`);
    expect(changes(b.snapshot().requests) - changes(before)).toBe(0);
  });

  it("check(): activate without applyTime OnReset, and OnReset with a boot method, are refused in preview", async () => {
    const b = await bmc("bluefield");
    const a = await dpuHost.check?.({}, news(b, { activate: "now" }));
    expect(a?.failures?.find((f) => f.property === "image.activate")?.reason).toMatch(
      /needs image.applyTime OnReset/,
    );
    const m = await dpuHost.check?.({}, news(b, { applyTime: "OnReset", method: "uefiHttp" }));
    expect(m?.failures?.find((f) => f.property === "image.applyTime")?.reason).toMatch(
      /image.method uefiHttp .* has no apply time/,
    );
    // Both values are accepted where they fit.
    const ok = await dpuHost.check?.({}, news(b, { applyTime: "OnReset", activate: "nextReset" }));
    expect(ok?.failures ?? []).toEqual([]);
  });

  it("quirk-bluefield-new: a BFB whose URL the BMC never finishes fetching fails naming the transfer stage", async () => {
    // HEAD answers (the provider's own check passes); the BMC's GET hangs: its task stays Running.
    const hung: ServerResponse[] = [];
    const server: Server = createServer((req, res) => {
      if (req.method === "HEAD") {
        res.writeHead(200, { "Content-Length": "1048576" }).end();
        return;
      }
      hung.push(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const b = await bmc("quirk-bluefield-new");
      const props = news(b, { url: `http://127.0.0.1:${port}/stalled.bfb`, timeoutMs: 2_000 });
      const err = await dpuHost.create?.(await checked(props)).catch((e: unknown) => e);
      expect(String(err)).toMatch(/stalled in the transfer stage/);
      expect(String(err)).toMatch(/timed out/);
    } finally {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("quirk-bluefield-new: a BFB installed whose boot never reaches the OS fails naming the boot stage", async () => {
    const b = await bmc("quirk-bluefield-new");
    b.setFaults({ bootFailCount: 1 });
    const err = await dpuHost
      .create?.(await checked({ ...news(b), ready: { timeoutMs: 2_000 } }))
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/stalled in the boot stage/);
  });

  it("a staged update from what the BMC shows: pending while listed as staged or no reset seen; activated by a new boot or the staged version running; superseded by another version", () => {
    const pending = {
      url: "http://images/new.bfb",
      stagedAt: "t0",
      bootProgressTimeBefore: "t0",
      activeVersion: "old",
      staged: { "DPU_OS-staged": "new" },
    };
    const inv = (dpuOs: string, staged: Record<string, string> = {}) => ({ versions: { dpuOs }, staged });
    expect(activationState(pending, sys("OsIsRunning", "t0"), inv("old", { X: "new" }))).toBe("pending");
    expect(activationState(pending, sys("OsIsRunning", "t1"), inv("old", { X: "new" }))).toBe("pending");
    expect(activationState(pending, sys("OsIsRunning", "t0"), inv("old"))).toBe("pending");
    expect(activationState(pending, sys("OsIsRunning", "t1"), inv("new"))).toBe("activated");
    expect(activationState(pending, sys("OsIsRunning", "t0"), inv("new"))).toBe("activated");
    expect(activationState(pending, sys("OsIsRunning", "t1"), inv("other"))).toBe("superseded");
    expect(activationState(pending, sys("OsIsRunning", "t1"), undefined)).toBe("activated");
    expect(activationState(pending, sys("UEFI", "t1"), undefined)).toBe("pending");
  });

  it("the stage from what the BMC shows: task unfinished → transfer; task done, no new boot or a firmware update in progress → install; a new boot that stalls → boot", () => {
    expect(bfbStallStage(false, "t0", sys("OsIsRunning", "t0"))).toBe("transfer");
    expect(bfbStallStage(true, "t0", sys("OsIsRunning", "t0"))).toBe("install");
    expect(bfbStallStage(true, "t0", sys("FirmwareUpdateInProgress", "t1"))).toBe("install");
    expect(bfbStallStage(true, "t0", sys("UEFI", "t1"))).toBe("boot");
    // LastStateTime has a 1 s resolution: a boot stuck before the OS within the same second is still a boot.
    expect(bfbStallStage(true, "t0", sys("UEFI", "t0"))).toBe("boot");
    expect(bfbStallStage(true, "t0", sys("OsIsRunning", "t1"))).toBe("boot");
  });
});
