import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { parseModeResource } from "../../provider/host/operating-mode";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { HostPowerLink } from "../../simulator/bmc/nvidia-mode";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, rf, SHARED, sharedAvailable, USER, waitFor } from "../sim-bmc/harness";
import { labWithLogs } from "./host-lab-logs";

/**
 * Issue 17 items 3, 6 and 8: the BlueField mode of operation as a declared input, changed as NVIDIA documents it
 * ("BlueField Modes of Operation Configuration": Mode.Set, the Arm cores reset twice, then a power cycle from the
 * host), with the host server's own BMC power-cycled by `host.policy` and left as found. The simulated host server
 * (a generic Redfish BMC) and the BlueField BMC share a PCIe link: the DPU sees the host's power-on, and only then
 * does the mode set take effect. Oracles: the BlueField BMC's own answers (Mode, BootProgress, the requests each
 * BMC received) and the shared capture of a real BlueField BMC (its `Mode: ""`).
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";
const MODE_SET = "/redfish/v1/Systems/Bluefield/Oem/Nvidia/Actions/Mode.Set";

/** Total requests a simulated BMC received (all methods). */
function requestsOf(b: SimBmc): number {
  return Object.values(b.snapshot().requests).reduce((a, n) => a + n, 0);
}

describe.skipIf(SKIP)("DpuHost: BlueField modes of operation and host coordination", () => {
  const suite = labWithLogs();
  const lab = (): Lab => suite.lab();

  /** A BlueField BMC in a host server with its own (generic) BMC, linked; the host powered as asked. */
  const rig = async (
    profile: BmcProfileName,
    hostPower: "On" | "Off",
  ): Promise<{ dpu: SimBmc; host: SimBmc; link: HostPowerLink; backend: FakeBackend }> => {
    const link = new HostPowerLink();
    const { bmc: host } = await lab().bmc("generic", {
      backend: new FakeBackend(`host-${Date.now()}`, preinstalled("HOSTOS")),
      hostLink: { link, role: "server" },
    });
    if (hostPower === "On") await host.powerOnAndWait();
    const backend = new FakeBackend(`mode-${profile}-${Date.now()}`, preinstalled());
    // Boots that take a moment, so that a reset shows in BootProgress between two reads.
    const { bmc: dpu } = await lab().bmc(profile, {
      backend,
      hostLink: { link, role: "dpu" },
      bootTimeMs: 600,
    });
    await dpu.powerOnAndWait();
    return { dpu, host, link, backend };
  };
  const news = (dpu: SimBmc, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    bmc: { endpoint: dpu.url, username: USER, password: PASS, caCert: lab().pki.caPem, retryBaseDelayMs: 10 },
    image: { url: lab().url(BFB), timeoutMs: 8_000 },
    ready: { timeoutMs: 8_000 },
    ...extra,
  });
  const hostBlock = (host: SimBmc, policy: "none" | "powerCycle" | "requireOff") => ({
    endpoint: host.url,
    username: USER,
    password: PASS,
    caCert: lab().pki.caPem,
    policy,
    timeoutMs: 8_000,
  });
  const checked = async (props: Record<string, unknown>) => {
    const r = await dpuHost.check?.({}, props);
    expect(r?.failures ?? []).toEqual([]);
    return r?.inputs as Record<string, unknown>;
  };
  const create = async (dpu: SimBmc): Promise<{ id: string; outs: DpuHostOutputs }> => {
    const r = await dpuHost.create?.(await checked(news(dpu, { mode: "dpu" })));
    return { id: r?.id as string, outs: r?.outs as DpuHostOutputs };
  };
  const hostPower = async (host: SimBmc, type: "ForceOff" | "On") => {
    const res = await rf(
      host,
      lab().pki.caPem,
      "POST",
      "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
      {
        body: { ResetType: type },
      },
    );
    expect(res.status).toBeLessThan(300);
    await waitFor(() => host.snapshot().powerState === (type === "On" ? "On" : "Off"), `host ${type}`);
  };

  it("the real BlueField BMC's empty Mode is 'cannot be read back', not a mode (shared capture)", () => {
    const dir = join(SHARED, "mockups/nvidia-bluefield-bmc/redfish/v1/Systems/Bluefield/Oem/Nvidia");
    const body = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Record<string, unknown>;
    const r = parseModeResource("/redfish/v1/Systems/Bluefield/Oem/Nvidia", body);
    expect(r.reported).toBeUndefined();
    expect(r.unreadable).toMatch(/empty Mode .* cannot be read back/);
    expect(r.setTarget).toBe(MODE_SET);
    expect([...r.allowed].sort()).toEqual(["DpuMode", "NicMode"]);
  });

  for (const profile of ["bluefield", "quirk-bluefield-new"] as const) {
    it(`${profile}: DPU→NIC→DPU with the host power-cycled through its BMC and left as found (On, then Off)`, async () => {
      const { dpu, host, link } = await rig(profile, "On");
      const { id, outs } = await create(dpu);
      expect(outs.operatingMode?.reported).toBe("dpu");

      // Preview names the mode change and the sequence it takes.
      suite.clearLogs();
      const toNic = await checked(news(dpu, { mode: "nic", host: hostBlock(host, "powerCycle") }));
      const d = await dpuHost.diff?.(id, outs, toNic);
      expect(d?.changes).toBe(true);
      expect(suite.logs()).toMatch(
        /will change mode nic: Mode\.Set NicMode, two resets of the Arm cores .*power cycle of the host server/,
      );

      // DPU → NIC, host found On: cycled, left On.
      const powerOns = link.powerOns;
      suite.clearLogs();
      const nic = (await dpuHost.update?.(id, outs, toNic))?.outs as DpuHostOutputs;
      expect(nic.operatingMode?.reported).toBe("nic");
      expect(nic.operatingMode?.hostPowerCyclePending).toBeUndefined();
      expect(nic.operatingMode?.unobservable?.join(" ")).toMatch(/SSH/);
      expect(link.powerOns).toBe(powerOns + 1);
      expect(host.snapshot().powerState).toBe("On");
      // The BlueField BMC itself: NIC mode, the Arm cores stopped in UEFI, no OS.
      const oem = await rf(dpu, lab().pki.caPem, "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia");
      expect(oem.json.Mode).toBe("NicMode");
      expect(dpu.snapshot().bootProgress).toMatchObject({ lastState: "OEM", oemLastState: "UEFI" });
      expect(suite.logs()).toMatch(/ForceRestart \(2 of 2\)/);
      const seen = (await dpuHost.read?.(id, nic))?.props as DpuHostOutputs;
      expect(seen.mode).toBe("nic");
      expect(seen.operatingMode?.unobservable?.length).toBeGreaterThan(0);

      // NIC → DPU, host found Off: powered on for the cycle, then off again.
      await hostPower(host, "ForceOff");
      const toDpu = await checked(news(dpu, { mode: "dpu", host: hostBlock(host, "powerCycle") }));
      const dpuOuts = (await dpuHost.update?.(id, seen, toDpu))?.outs as DpuHostOutputs;
      expect(dpuOuts.operatingMode?.reported).toBe("dpu");
      expect(link.powerOns).toBe(powerOns + 2);
      expect(host.snapshot().powerState).toBe("Off");
      expect(dpu.snapshot().bootProgress).toMatchObject({ oemLastState: "OsIsRunning" });
      const back = (await dpuHost.read?.(id, dpuOuts))?.props as DpuHostOutputs;
      expect(back.mode).toBe("dpu");
      expect(back.operatingMode?.unobservable).toBeUndefined();
    }, 60_000);
  }

  it("policy none: the mode set waits for a host power cycle, reported pending; zero requests to the host BMC", async () => {
    const { dpu, host } = await rig("bluefield", "On");
    const { id, outs } = await create(dpu);
    const before = requestsOf(host);
    suite.clearLogs();
    const inputs = await checked(news(dpu, { mode: "nic", host: hostBlock(host, "none") }));
    const r = (await dpuHost.update?.(id, outs, inputs))?.outs as DpuHostOutputs;
    expect(requestsOf(host)).toBe(before);
    expect(r.operatingMode?.hostPowerCyclePending).toMatch(/host power cycle is pending/);
    expect(suite.logs()).toMatch(/host power cycle is pending/);
    // Mode.Set and the Arm resets alone do not switch the BlueField: it still reports DPU mode and runs its OS.
    expect(r.operatingMode?.reported).toBe("dpu");
    expect(dpu.snapshot().bootProgress).toMatchObject({ oemLastState: "OsIsRunning" });
    // read() keeps the pending cycle and shows the mode the BMC reports (drift from the declared nic).
    const seen = (await dpuHost.read?.(id, r))?.props as DpuHostOutputs;
    expect(seen.mode).toBe("dpu");
    expect(seen.operatingMode?.hostPowerCyclePending).toMatch(/pending/);
    // Someone power-cycles the host: now the mode takes effect.
    await hostPower(host, "ForceOff");
    await hostPower(host, "On");
    await waitFor(async () => {
      const oem = await rf(dpu, lab().pki.caPem, "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia");
      return oem.json.Mode === "NicMode";
    }, "NicMode after the host power cycle");
    const after = (await dpuHost.read?.(id, seen))?.props as DpuHostOutputs;
    expect(after.mode).toBe("nic");
    expect(after.operatingMode?.hostPowerCyclePending).toBeUndefined();
  }, 60_000);

  it("policy requireOff refuses while the host is On, before any request that changes state", async () => {
    const { dpu, host } = await rig("bluefield", "On");
    const { id, outs } = await create(dpu);
    const dpuPosts = dpu.snapshot().requests.POST ?? 0;
    const hostPosts = host.snapshot().requests.POST ?? 0;
    const inputs = await checked(news(dpu, { mode: "nic", host: hostBlock(host, "requireOff") }));
    const err = (await dpuHost.update?.(id, outs, inputs).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/host\.policy requireOff refuses while the host server .* is On/);
    expect(dpu.snapshot().requests.POST ?? 0).toBe(dpuPosts);
    expect(host.snapshot().requests.POST ?? 0).toBe(hostPosts);
    expect(host.snapshot().powerState).toBe("On");
    const oem = await rf(dpu, lab().pki.caPem, "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia");
    expect(oem.json.Mode).toBe("DpuMode");
  }, 60_000);

  it("an OS install in NIC mode is refused before any request, naming why", async () => {
    const { dpu } = await rig("bluefield", "On");
    const before = requestsOf(dpu);
    const inputs = await checked(news(dpu, { mode: "nic" }));
    const err = (await dpuHost.create?.(inputs).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(
      /mode nic turns the BlueField's Arm cores off, so no DPU OS can be installed/,
    );
    expect(requestsOf(dpu)).toBe(before);
  }, 30_000);

  it('capture-bluefield (Mode "" as captured): an install does not switch a mode it cannot read back', async () => {
    const { dpu, host } = await rig("capture-bluefield", "On");
    const hostBefore = requestsOf(host);
    suite.clearLogs();
    const inputs = await checked(news(dpu, { mode: "dpu", host: hostBlock(host, "powerCycle") }));
    // The capture's SimpleUpdate is SCP-only: the http:// BFB is refused by provisioning, after the mode check.
    const err = (await dpuHost.create?.(inputs).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/SCP/);
    expect(suite.logs()).toMatch(/empty Mode .* cannot be read back; installing without switching it/);
    expect(dpu.snapshot().requests.POST ?? 0).toBe(0);
    expect(requestsOf(host)).toBe(hostBefore);
  }, 30_000);

  it("a DPU found in NIC mode: an install with host.policy none is refused before any change", async () => {
    const link = new HostPowerLink();
    const backend = new FakeBackend(`nic-${Date.now()}`, preinstalled());
    const { bmc: dpu } = await lab().bmc("bluefield", {
      backend,
      hostLink: { link, role: "dpu" },
      initialMode: "NicMode",
    });
    await dpu.snapshot();
    const inputs = await checked(news(dpu, { mode: "dpu" }));
    const err = (await dpuHost.create?.(inputs).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/reports mode nic, and the install needs mode dpu/);
    expect(dpu.snapshot().requests.POST ?? 0).toBe(0);
  }, 30_000);
});
