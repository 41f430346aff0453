import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { beginCycle, endCycle } from "../../provider/host/host-power-journal";
import { processStartTime } from "../../provider/lifecycle/local-process";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { HostPowerLink } from "../../simulator/bmc/nvidia-mode";
import type { SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, rf, sharedAvailable, startLab, USER } from "../sim-bmc/harness";
import { type FakeHost, type FakeHostOptions, startFakeHost } from "./host-hostile-fake-host";

/**
 * Hostile cases of the BlueField mode change's host power cycle (host.policy powerCycle), against a host BMC
 * written here by hand (test/adversary/host-hostile-fake-host.ts), not the project's simulator: a host BMC that
 * shows no PowerState, one that drops off the network in the middle of the cycle, two DPUs in one host server
 * changing mode at once, one that refuses ForceOff but accepts GracefulShutdown. The oracle is what the host BMC
 * received and its power at the end: a host found On is On again afterwards.
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";
const HOST_PASS = "host-secret-Pw-7731";

describe.skipIf(SKIP)("DpuHost mode change: a hostile host BMC", () => {
  let lab: Lab;
  let restore: (() => void) | undefined;
  let logs: string[] = [];
  const hosts: FakeHost[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), "dpu-hostile-mode-"));
  const oldStateDir = process.env.PULUMI_DPU_STATE_DIR;

  const dpuIn = async (link: HostPowerLink, tag: string, bootTimeMs = 300): Promise<SimBmc> => {
    const { bmc } = await lab.bmc("bluefield", {
      backend: new FakeBackend(`${tag}-${Date.now()}`, preinstalled()),
      hostLink: { link, role: "dpu" },
      bootTimeMs,
    });
    await bmc.powerOnAndWait();
    return bmc;
  };
  const fakeHost = async (
    o: Partial<FakeHostOptions> & Pick<FakeHostOptions, "power">,
  ): Promise<FakeHost> => {
    const h = await startFakeHost({
      key: lab.pki.key,
      cert: lab.pki.cert,
      username: USER,
      password: HOST_PASS,
      ...o,
    });
    hosts.push(h);
    return h;
  };
  const news = (dpu: SimBmc, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    bmc: { endpoint: dpu.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
    image: { url: lab.url(BFB), timeoutMs: 8_000 },
    ready: { timeoutMs: 8_000 },
    ...extra,
  });
  const hostBlock = (h: FakeHost) => ({
    endpoint: h.url,
    username: USER,
    password: HOST_PASS,
    caCert: lab.pki.caPem,
    policy: "powerCycle",
    timeoutMs: 4_000,
  });
  const checked = async (props: Record<string, unknown>) => {
    const r = await dpuHost.check?.({}, props);
    expect(r?.failures ?? []).toEqual([]);
    return r?.inputs as Record<string, unknown>;
  };
  const created = async (dpu: SimBmc): Promise<{ id: string; outs: DpuHostOutputs }> => {
    const r = await dpuHost.create?.(await checked(news(dpu, { mode: "dpu" })));
    return { id: r?.id as string, outs: r?.outs as DpuHostOutputs };
  };
  const modeOf = async (dpu: SimBmc): Promise<unknown> =>
    (await rf(dpu, lab.pki.caPem, "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia")).json.Mode;
  const hostPosts = (h: FakeHost) => h.requests.filter((r) => r.method === "POST");

  beforeAll(async () => {
    process.env.PULUMI_DPU_STATE_DIR = stateDir;
    lab = await startLab();
    restore = setLogSink((_level, line) => logs.push(line));
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    for (const h of hosts) await h.close();
    await lab?.close();
    if (oldStateDir === undefined) delete process.env.PULUMI_DPU_STATE_DIR;
    else process.env.PULUMI_DPU_STATE_DIR = oldStateDir;
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("a host BMC without PowerState: powerCycle refuses before any change (it would power a running host off)", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", noPowerState: true, link });
    const dpu = await dpuIn(link, "nopower");
    const { id, outs } = await created(dpu);
    const dpuPosts = dpu.snapshot().requests.POST ?? 0;
    const err = (await dpuHost
      .update?.(id, outs, await checked(news(dpu, { mode: "nic", host: hostBlock(host) })))
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/PowerState/);
    expect(err.message).toContain(host.url);
    expect(hostPosts(host)).toEqual([]);
    expect(host.transitions).toEqual([]);
    expect(dpu.snapshot().requests.POST ?? 0).toBe(dpuPosts);
    expect(await modeOf(dpu)).toBe("DpuMode");
  }, 60_000);

  it("the host BMC drops off right after powering the host off: the next up leaves the host On, as found", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "drop");
    const { id, outs } = await created(dpu);
    const toNic = await checked(news(dpu, { mode: "nic", host: hostBlock(host) }));
    host.dropAfterOff = true;
    const err = await dpuHost.update?.(id, outs, toNic).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(host.power).toBe("Off");
    // The host BMC is back; the engine kept the old state (the update failed), the next up runs it again.
    host.dropAfterOff = false;
    host.dropping = false;
    logs = [];
    const r = (await dpuHost.update?.(id, outs, toNic))?.outs as DpuHostOutputs;
    expect(r.operatingMode?.reported).toBe("nic");
    expect(host.power).toBe("On");
    expect(host.transitions.at(-1)).toBe("On");
    expect(logs.join("\n")).not.toContain(HOST_PASS);
  }, 90_000);

  it("two DPUs of one host server change mode at once: the host ends On and each DPU in its new mode", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const a = await dpuIn(link, "twin-a");
    const b = await dpuIn(link, "twin-b");
    const ca = await created(a);
    const cb = await created(b);
    const [ra, rb] = await Promise.allSettled([
      dpuHost.update?.(ca.id, ca.outs, await checked(news(a, { mode: "nic", host: hostBlock(host) }))),
      dpuHost.update?.(cb.id, cb.outs, await checked(news(b, { mode: "nic", host: hostBlock(host) }))),
    ]);
    for (const r of [ra, rb])
      expect(r.status === "rejected" ? String(r.reason) : "fulfilled").toBe("fulfilled");
    expect(host.power).toBe("On");
    expect(await modeOf(a)).toBe("NicMode");
    expect(await modeOf(b)).toBe("NicMode");
  }, 90_000);

  it.each([
    {
      what: "refuses ForceOff but accepts GracefulShutdown: the cycle completes, the host On again",
      tag: "graceful",
      opts: { refuse: ["ForceOff"] },
    },
    {
      what: "answers the resets 202 with a task, powering later: the cycle waits for each transition",
      tag: "async",
      opts: { asyncResetMs: 700 },
    },
  ] satisfies { what: string; tag: string; opts: Partial<FakeHostOptions> }[])(
    "a host BMC that $what",
    async ({ tag, opts }) => {
      const link = new HostPowerLink();
      const host = await fakeHost({ power: "On", link, ...opts });
      const dpu = await dpuIn(link, tag);
      const { id, outs } = await created(dpu);
      const r = (
        await dpuHost.update?.(id, outs, await checked(news(dpu, { mode: "nic", host: hostBlock(host) })))
      )?.outs as DpuHostOutputs;
      expect(r.operatingMode?.reported).toBe("nic");
      expect(host.transitions).toEqual(["Off", "On"]);
      expect(host.power).toBe("On");
    },
    60_000,
  );

  it("refresh right after the operator switched to NIC mode by hand (the DPU still booting), then up back to dpu: converges", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "byhand", 4000);
    const { id, outs } = await created(dpu);
    // The operator: Mode.Set NicMode on the BlueField BMC, then a power cycle of the host server.
    const set = await rf(
      dpu,
      lab.pki.caPem,
      "POST",
      "/redfish/v1/Systems/Bluefield/Oem/Nvidia/Actions/Mode.Set",
      {
        body: { Mode: "NicMode" },
      },
    );
    expect(set.status).toBeLessThan(300);
    link.hostPoweredOn();
    const seen = (await dpuHost.read?.(id, outs))?.props as DpuHostOutputs;
    expect(seen.mode).toBe("nic");
    const back = (
      await dpuHost.update?.(id, seen, await checked(news(dpu, { mode: "dpu", host: hostBlock(host) })))
    )?.outs as DpuHostOutputs;
    expect(back.operatingMode?.reported).toBe("dpu");
    expect(await modeOf(dpu)).toBe("DpuMode");
    expect(host.power).toBe("On");
  }, 60_000);

  it("a mode change left pending by host.policy none, then policy powerCycle: up completes it", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "pending");
    const { id, outs } = await created(dpu);
    const none = { ...hostBlock(host), policy: "none" };
    const pending = (await dpuHost.update?.(id, outs, await checked(news(dpu, { mode: "nic", host: none }))))
      ?.outs as DpuHostOutputs;
    expect(pending.operatingMode?.hostPowerCyclePending).toMatch(/pending/);
    expect(host.requests).toEqual([]);
    const toCycle = await checked(news(dpu, { mode: "nic", host: hostBlock(host) }));
    expect((await dpuHost.diff?.(id, pending, toCycle as never))?.changes).toBe(true);
    const done = (await dpuHost.update?.(id, pending, toCycle))?.outs as DpuHostOutputs;
    expect(await modeOf(dpu)).toBe("NicMode");
    expect(done.operatingMode?.reported).toBe("nic");
    expect(done.operatingMode?.hostPowerCyclePending).toBeUndefined();
    expect(host.transitions).toEqual(["Off", "On"]);
  }, 60_000);

  it("a host BMC refusing the password: the error names the host BMC and never carries the password", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "badpw");
    const { id, outs } = await created(dpu);
    const wrong = "Wrong-host-Pw-99812";
    logs = [];
    const err = (await dpuHost
      .update?.(
        id,
        outs,
        await checked(news(dpu, { mode: "nic", host: { ...hostBlock(host), password: wrong } })),
      )
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(host.url);
    expect(err.message).toMatch(/401/);
    const seen = `${err.message}\n${err.stack ?? ""}\n${JSON.stringify(err)}\n${logs.join("\n")}`;
    expect(seen).not.toContain(wrong);
    expect(seen).not.toContain(HOST_PASS);
    expect(await modeOf(dpu)).toBe("DpuMode");
  }, 60_000);

  it("steady NIC mode: refresh then preview shows no change (nothing to reinstall, no power cycle)", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "steady");
    const { id, outs } = await created(dpu);
    const toNic = await checked(news(dpu, { mode: "nic", host: hostBlock(host) }));
    const nic = (await dpuHost.update?.(id, outs, toNic))?.outs as DpuHostOutputs;
    const read = await dpuHost.read?.(id, nic);
    const seen = read?.props as DpuHostOutputs;
    expect(seen.mode).toBe("nic");
    logs = [];
    const d = await dpuHost.diff?.(
      id,
      seen,
      (await checked(news(dpu, { mode: "nic", host: hostBlock(host) }))) as never,
    );
    expect(d?.changes).toBe(false);
    expect(logs.join("\n")).not.toMatch(/will change mode/);
  }, 60_000);

  it("another live provider process is cycling the same host server: refused by pid before Mode.Set", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link });
    const dpu = await dpuIn(link, "otherproc");
    const { id, outs } = await created(dpu);
    // The other process's record, as it writes it (the journal's own writer), then owned by a live child process.
    beginCycle(host.url, "/redfish/v1/Systems/1", "On");
    const sub = join(stateDir, "host-power");
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = other.pid as number;
    try {
      for (const f of readdirSync(sub).filter((n) => n.endsWith(".json"))) {
        const rec = JSON.parse(readFileSync(join(sub, f), "utf8")) as Record<string, unknown>;
        if (rec.origin !== host.url) continue;
        const start = processStartTime(pid);
        writeFileSync(join(sub, f), JSON.stringify({ ...rec, pid, pidStart: start }), { mode: 0o600 });
      }
      const dpuPosts = dpu.snapshot().requests.POST ?? 0;
      const err = (await dpuHost
        .update?.(id, outs, await checked(news(dpu, { mode: "nic", host: hostBlock(host) })))
        .catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(new RegExp(`provider process ${pid} has been power-cycling it`));
      expect(dpu.snapshot().requests.POST ?? 0).toBe(dpuPosts);
      expect(hostPosts(host)).toEqual([]);
    } finally {
      other.kill("SIGKILL");
      endCycle(host.url, "/redfish/v1/Systems/1");
    }
  }, 60_000);

  it("a host BMC listing no ResetType that powers the host off (only On and PowerCycle): refused before Mode.Set", async () => {
    const link = new HostPowerLink();
    const host = await fakeHost({ power: "On", link, resetTypes: ["On", "PowerCycle"] });
    const dpu = await dpuIn(link, "nooff");
    const { id, outs } = await created(dpu);
    const dpuPosts = dpu.snapshot().requests.POST ?? 0;
    const err = (await dpuHost
      .update?.(id, outs, await checked(news(dpu, { mode: "nic", host: hostBlock(host) })))
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/allows ResetType On, PowerCycle, none of which powers it off/);
    expect(dpu.snapshot().requests.POST ?? 0).toBe(dpuPosts);
    expect(hostPosts(host)).toEqual([]);
    expect(host.power).toBe("On");
  }, 60_000);
});
