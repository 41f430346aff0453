import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderTable } from "../../cli/inspect";
import { waitBooted } from "../../provider/host/provision";
import { logger } from "../../provider/log";
import {
  closeAllPools,
  discover,
  ejectMedia,
  insertMedia,
  RedfishClient,
  readSystem,
  resetSystem,
} from "../../provider/redfish";
import { DpuHostInputsSchema } from "../../provider/resources/dpu-host";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER } from "../sim-bmc/harness";

/**
 * The Redfish layer and `inspect` against the quirk and capture profiles (built at run time from the shared
 * captures): what each BMC offers is read as it is, and the operations follow it (issue 13, items 2 and 3).
 */
const SKIP = !sharedAvailable();

describe.skipIf(SKIP)("Redfish layer on quirk profiles", () => {
  let lab: Lab;
  const bmcs = new Map<BmcProfileName, SimBmc>();
  const bmc = async (p: BmcProfileName): Promise<SimBmc> => {
    const have = bmcs.get(p);
    if (have) return have;
    // On the stale-BootProgress profile a boot takes 2 s (a LastStateTime in whole seconds must move on).
    const b = (
      await lab.bmc(p, {
        backend: new FakeBackend(`q-${bmcs.size}`, preinstalled()),
        bootTimeMs: p === "quirk-bluefield-old" ? 2000 : 0,
      })
    ).bmc;
    await b.powerOnAndWait();
    bmcs.set(p, b);
    return b;
  };
  const client = (b: SimBmc, password = PASS) =>
    new RedfishClient({
      endpoint: b.url,
      username: USER,
      password,
      caCert: lab.pki.caPem,
      retryAttempts: 2,
      retryBaseDelayMs: 10,
    });
  beforeAll(async () => {
    lab = await startLab();
  }, 60_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.close();
  });

  it("emulator-like (no SessionService link): auth auto uses Basic without a session login; refused credentials name the scheme and bmc.username / bmc.password", async () => {
    const b = await bmc("quirk-emulator");
    const before = b.snapshot().requests.POST ?? 0;
    const c = client(b);
    const caps = await discover(c);
    expect(await readSystem(c, caps.systemPath)).toBeDefined();
    expect(c.authInUse).toBe("basic");
    await c.close();
    expect(b.snapshot().requests.POST ?? 0).toBe(before);
    const bad = client(b, "wrong-password-1");
    const err = await discover(bad).catch((e: unknown) => e);
    expect(String(err)).toMatch(/check bmc\.username \/ bmc\.password/);
    expect(String(err)).toMatch(/HTTP Basic/);
    expect(String(err)).not.toContain("wrong-password-1");
  });

  it("XCC-like: a Pending object holding only BootOrder is not taken as the Settings object (and inspect says so)", async () => {
    const b = await bmc("quirk-xcc");
    const c = client(b);
    const caps = await discover(c);
    await c.close();
    expect(caps.boot.settingsPath).toBeUndefined();
    expect(caps.boot.settingsIgnored).toMatch(/Pending holds only BootOrder/);
    expect(renderTable(caps)).toMatch(/Settings object +not used: .*only BootOrder/);
  });

  it("Supermicro-like: SimpleUpdate protocols come from the ActionInfo (shown by inspect, not 'any')", async () => {
    const b = await bmc("quirk-supermicro");
    const c = client(b);
    const caps = await discover(c);
    expect(caps.update.transferProtocols).toEqual(["HTTP", "HTTPS"]);
    expect(caps.update.transferProtocolsFrom).toBe("actionInfo");
    expect(renderTable(caps)).toMatch(/SimpleUpdate +yes; protocols HTTP, HTTPS \(from its ActionInfo\)/);
    await c.close();
  });

  it("Supermicro-like: EjectMedia offered only while inserted is found by re-reading the slot before the eject", async () => {
    const b = await bmc("quirk-supermicro");
    const c = client(b);
    const caps = await discover(c);
    const slot = caps.virtualMedia.chosen;
    expect(slot).toBeDefined();
    if (!slot) return;
    // Discovered while empty: no EjectMedia action yet.
    expect(slot.ejectTarget).toBeUndefined();
    await insertMedia(c, slot, lab.url("dpu-os-1.1.iso"), { timeoutMs: 20_000, pollIntervalMs: 50 });
    expect(b.snapshot().media.inserted).toBe(true);
    await ejectMedia(c, slot, { timeoutMs: 20_000, pollIntervalMs: 50 });
    expect(b.snapshot().media.inserted).toBe(false);
    await c.close();
  });

  it("inspect warns where DpuHost needs ready.ssh (no BootProgress) and shows SCP-only SimpleUpdate", async () => {
    const tower = client(await bmc("capture-tower"));
    const t = renderTable(await discover(tower));
    await tower.close();
    expect(t).toMatch(/BootProgress +no: DpuHost needs ready\.ssh/);
    expect(t).toMatch(/Warning +no BootProgress: DpuHost needs ready\.ssh/);
    const bf = client(await bmc("capture-bluefield"));
    const caps = await discover(bf);
    await bf.close();
    expect(caps.methods).not.toContain("uefiHttp");
    expect(caps.unavailable?.uefiHttp).toMatch(/UefiHttp not allowed|HttpBootUri/);
    expect(renderTable(caps)).toMatch(/Warning +SimpleUpdate fetches only over SCP/);
  });

  it("BlueField, older firmware: a timeout while BootProgress still shows the pre-reset state says it stood still since before the reset", async () => {
    const b = await bmc("quirk-bluefield-old");
    const c = client(b);
    const caps = await discover(c);
    const inputs = DpuHostInputsSchema.parse({
      bmc: { endpoint: b.url, username: USER, password: PASS },
      image: { url: lab.url("bf-bundle-4.10.bfb") },
      ready: { timeoutMs: 1500 },
    });
    const before = await readSystem(c, caps.systemPath);
    if (!before) throw new Error("no system");
    const resetAt = Date.now();
    await resetSystem(c, caps, before.powerState, "restart");
    const err = await waitBooted(c, caps, inputs, before, logger("test"), { resetAt }).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(
      /BootProgress stayed \w+ \(\d\d:\d\d:\d\d\), older than the reset at \d\d:\d\d:\d\d/,
    );
    // Once the BMC moves on, the boot is observed by BootProgress.
    const long = { ...inputs, ready: { ...inputs.ready, timeoutMs: 30_000 } };
    const ok = await waitBooted(c, caps, long, before, logger("test"), { resetAt });
    expect(ok.observedBy).toBe("bootProgress");
    await c.close();
  }, 60_000);
});
