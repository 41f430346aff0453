import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { closeAllPools } from "../../provider/redfish";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { identity, loopbackStage } from "../seed/fixtures";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER } from "../sim-bmc/harness";
import { freePort } from "../stage/helpers";

/**
 * Issue 16, UEFI HTTP boot: Redfish gives the firmware one boot URI per system (`Boot.HttpBootUri`) and the image's
 * own boot loader owns the kernel command line, where cloud-init would take a network seed (`ds=nocloud;s=<url>/`,
 * NoCloud datasource). DpuHost builds no per-DPU copy of the image, so an identity cannot travel by UEFI HTTP:
 * create() refuses it before the BMC changes, and the error says why and what to use instead (the other two
 * channels, or one fleet-wide seed URL baked into the image, expanded per DPU by cloud-init's `__dmi.*__`).
 */
const SKIP = !sharedAvailable();

/** What the refusal must say: the reason (one boot URI, the image's command line) and every way out. */
const REASON = [
  /identity cannot be delivered with UEFI HTTP boot/,
  /one boot URI per system \(Boot\.HttpBootUri\)/,
  /kernel command line of the image's own boot loader/,
  /`ds=nocloud;s=<url>\/`/,
  /image\.method virtualMedia .*cidata.* or simpleUpdate .*bf\.cfg/,
  /`ds=nocloud;s=http:\/\/<seed server>\/__dmi\.system-uuid__\/`/,
];

describe.skipIf(SKIP)("DpuHost: an identity by UEFI HTTP boot is refused with the reason", () => {
  let lab: Lab;
  /** An upload target that counts what reaches it: the refusal must come before the stage is used. */
  let store: Server;
  let uploads = 0;
  beforeAll(async () => {
    lab = await startLab();
    store = createServer((req, res) => {
      uploads++;
      req.resume();
      res.writeHead(201).end();
    });
    await new Promise<void>((r) => store.listen(0, "127.0.0.1", r));
  }, 60_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.close();
    await new Promise((r) => store?.close(r));
  });

  const bmc = async (profile: BmcProfileName): Promise<SimBmc> => {
    const { bmc: b } = await lab.bmc(profile, {
      backend: new FakeBackend(`uefi-${profile}-${Date.now()}`, preinstalled()),
    });
    await b.powerOnAndWait();
    return b;
  };
  const create = async (b: SimBmc, image: Record<string, unknown>, stage: unknown) => {
    const checked = await dpuHost.check?.(
      {},
      {
        bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
        image: { url: lab.url("dpu-os-1.1.iso"), timeoutMs: 8_000, ...image },
        ready: { timeoutMs: 5_000 },
        identity: identity(),
        stage,
      },
    );
    expect(checked?.failures ?? []).toEqual([]);
    return (await dpuHost.create?.(checked?.inputs).catch((e: unknown) => e)) as Error;
  };
  const changes = (b: SimBmc) => {
    const r = b.snapshot().requests;
    return (r.POST ?? 0) + (r.PATCH ?? 0) + (r.PUT ?? 0) + (r.DELETE ?? 0);
  };

  it("image.method uefiHttp: refused before the stage or the BMC is used, saying why and what instead", async () => {
    const b = await bmc("generic");
    const before = { ...b.snapshot().requests };
    const port = (store.address() as AddressInfo).port;
    const err = await create(
      b,
      { method: "uefiHttp" },
      { kind: "httpPut", url: `http://127.0.0.1:${port}/dav` },
    );
    expect(err).toBeInstanceOf(Error);
    for (const re of REASON) expect(err.message).toMatch(re);
    expect(err.message).toMatch(/^create DpuHost .*BMC https:\/\/127\.0\.0\.1:\d+/);
    expect(uploads).toBe(0);
    expect(b.snapshot().requests).toEqual(before);
  });

  it("no image.method, and the BMC boots the ISO only by UEFI HTTP: the same reason, nothing changed", async () => {
    // The BlueField-like profile has no virtual media; an ISO is booted by UEFI HTTP there.
    const b = await bmc("bluefield");
    const before = changes(b);
    const err = await create(b, {}, loopbackStage(await freePort()));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(
      /this BMC would install the image by UEFI HTTP boot \(virtual media: [^)]+\)/,
    );
    for (const re of REASON) expect(err.message).toMatch(re);
    expect(changes(b)).toBe(before);
    expect(b.snapshot().override.enabled).toBe("Disabled");
  });
});
