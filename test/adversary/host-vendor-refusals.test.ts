import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { closeAllPools } from "../../provider/redfish";
import {
  DPU_HOST_SECRET_INPUTS,
  DpuHostInputsSchema,
  type DpuHostOutputs,
} from "../../provider/resources/dpu-host";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER } from "../sim-bmc/harness";

/**
 * DpuHost against capture-backed and quirk BMC profiles (issue 13, item 2), driven through the public runtime
 * (`dpuHost` of provider/index.ts) the way the engine calls it. The BMCs run in process (real HTTPS servers with
 * the captured trees), so each case takes well under a second: no namespaces, no SSH. What needs a DPU OS (a
 * boot proved over SSH) is in host-vendor-lab.test.ts.
 */
const SKIP = !sharedAvailable();

/** DpuHost inputs as the engine passes them after check() (defaults applied by the provider). */
function news(
  bmc: SimBmc,
  lab: Lab,
  image: string,
  extra: {
    bmc?: Record<string, unknown>;
    image?: Record<string, unknown>;
    ready?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    bmc: {
      endpoint: bmc.url,
      username: USER,
      password: PASS,
      caCert: lab.pki.caPem,
      retryBaseDelayMs: 10,
      retryAttempts: 2,
      ...extra.bmc,
    },
    image: { url: image.includes("://") ? image : lab.url(image), timeoutMs: 20_000, ...extra.image },
    ready: { timeoutMs: 20_000, ...extra.ready },
  };
}

/** Requests that change state (PATCH, DELETE of anything but our session, POST of anything but a login). */
function stateChanges(before: Record<string, number>, after: Record<string, number>): number {
  const d = (m: string) => (after[m] ?? 0) - (before[m] ?? 0);
  return d("PATCH") + d("PUT");
}

async function create(props: Record<string, unknown>): Promise<unknown> {
  const checked = await dpuHost.check?.({}, props);
  expect(checked?.failures ?? []).toEqual([]);
  return dpuHost.create?.(checked?.inputs);
}

describe.skipIf(SKIP)("DpuHost on vendor-true BMCs: refuses before it touches hardware", () => {
  let lab: Lab;
  const bmcs = new Map<BmcProfileName, SimBmc>();
  const bmc = async (p: BmcProfileName): Promise<SimBmc> => {
    const have = bmcs.get(p);
    if (have) return have;
    const b = (await lab.bmc(p, { backend: new FakeBackend(`vendor-${bmcs.size}`, preinstalled()) })).bmc;
    await b.powerOnAndWait();
    bmcs.set(p, b);
    return b;
  };
  beforeAll(async () => {
    lab = await startLab();
  }, 60_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.close();
  });

  it("no BootProgress and no ready.ssh (capture-tower): create refuses naming ready.ssh, before any PATCH or reset", async () => {
    const b = await bmc("capture-tower");
    const before = b.snapshot();
    const err = await create(news(b, lab, "dpu-os-1.1.iso")).catch((e: unknown) => e);
    expect(String(err)).toMatch(/ready\.ssh/);
    expect(String(err)).toMatch(/shows no BootProgress/);
    const after = b.snapshot();
    expect(stateChanges(before.requests, after.requests)).toBe(0);
    expect(after.media).toEqual(before.media);
    expect(after.override).toEqual(before.override);
    expect(after.installedImage?.url).toEqual(before.installedImage?.url);
  });

  it("check() refuses a missing ready.ssh when the last discovery saw no BootProgress, and when ready.bootProgress is off", async () => {
    const b = await bmc("capture-tower");
    const props = news(b, lab, "dpu-os-1.1.iso");
    const olds = {
      discovery: {
        systemPath: "/redfish/v1/Systems/x",
        method: "virtualMedia",
        bootProgressSupported: false,
      },
    };
    const r = await dpuHost.check?.(olds, props);
    expect(r?.failures).toEqual([expect.objectContaining({ property: "ready.ssh" })]);
    // The engine passes check() inputs only: a BMC this process discovered (here by a refused create) is known.
    const parsed = DpuHostInputsSchema.parse(news(b, lab, "dpu-os-1.1.iso"));
    await dpuHost.create?.(parsed).catch(() => undefined);
    const again = await dpuHost.check?.({}, news(b, lab, "dpu-os-1.1.iso"));
    expect(again?.failures).toEqual([
      expect.objectContaining({
        property: "ready.ssh",
        reason: expect.stringMatching(/shows no BootProgress/),
      }),
    ]);
    const rack = await bmc("capture-rackmount1");
    const off = await dpuHost.check?.(
      {},
      news(rack, lab, "dpu-os-1.1.iso", { ready: { bootProgress: false } }),
    );
    expect(off?.failures).toEqual([
      expect.objectContaining({
        property: "ready.ssh",
        reason: expect.stringMatching(/ready\.bootProgress is false/),
      }),
    ]);
  });

  it("SCP-only SimpleUpdate (capture-bluefield): an http:// BFB is refused listing SCP, before any POST to SimpleUpdate", async () => {
    const b = await bmc("capture-bluefield");
    const before = b.snapshot();
    const err = await create(news(b, lab, "bf-bundle-4.10.bfb", { image: { method: "simpleUpdate" } })).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/TransferProtocol SCP only, not HTTP/);
    expect(String(err)).toMatch(/scp:\/\//);
    const after = b.snapshot();
    expect((after.requests.POST ?? 0) - (before.requests.POST ?? 0)).toBeLessThanOrEqual(1); // the login only
    expect(stateChanges(before.requests, after.requests)).toBe(0);
    // Without image.method, the .bfb finds no method either, and each method says why.
    const auto = await create(news(b, lab, "bf-bundle-4.10.bfb")).catch((e: unknown) => e);
    expect(String(auto)).toMatch(
      /no install method fits: simpleUpdate: .*SCP only.*virtualMedia: no virtual media slots/,
    );
  });

  it("an scp:// image on an SCP-only BlueField BMC whose SCP server cannot be reached for its host key: refused before the key exchange and the SimpleUpdate, no password shown (the transfer itself: host-bluefield-scp)", async () => {
    const b = await bmc("capture-bluefield");
    const before = b.snapshot();
    const err = await create(
      news(b, lab, "scp://127.0.0.1:1/images/bf-bundle-4.10.bfb", {
        image: { method: "simpleUpdate", username: "deploy", password: "s3cret-scp-pw" },
      }),
    ).catch((e: unknown) => e);
    expect(String(err)).toMatch(/could not read the SCP server's host key from 127\.0\.0\.1:1/);
    expect(String(err)).toMatch(/image\.scpHostKey/);
    expect(String(err)).not.toContain("s3cret-scp-pw");
    const after = b.snapshot();
    expect((after.requests.POST ?? 0) - (before.requests.POST ?? 0)).toBeLessThanOrEqual(1); // the login only
    expect(DPU_HOST_SECRET_INPUTS).toContain("image.password");
  });

  it("a DPU system without a Boot object (capture-smartnic): refused naming the systems that have one, no Boot PATCH sent", async () => {
    const b = await bmc("capture-smartnic");
    const before = b.snapshot();
    const err = await create(news(b, lab, "dpu-os-1.1.iso", { ready: { bootProgress: true } })).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/Card1-SoC has no Boot object/);
    expect(String(err)).toMatch(/437XR1138R2 \(Physical, has a Boot object\)/);
    expect(String(err)).toMatch(/bmc\.systemId/);
    expect(stateChanges(before.requests, b.snapshot().requests)).toBe(0);
  });

  it("several bootable systems (capture-bladed): asks for bmc.systemId and lists every system", async () => {
    const b = await bmc("capture-bladed");
    const err = await create(news(b, lab, "dpu-os-1.1.iso")).catch((e: unknown) => e);
    expect(String(err)).toMatch(/set bmc\.systemId/i);
    expect(String(err)).toMatch(/529QB9450R6 \(Physical, has a Boot object\).*529QB9453R6/);
  });

  it("BootProgress observed after the reset (capture-rackmount1): create records how the boot was observed; delete leaves an override and media it never set", async () => {
    const b = await bmc("capture-rackmount1");
    const created = (await create(news(b, lab, "dpu-os-1.1.iso"))) as { id: string; outs: DpuHostOutputs };
    expect(created.outs.installedImage?.observedBy).toBe("bootProgress");
    expect(b.snapshot().installedImage?.url).toBe(lab.url("dpu-os-1.1.iso"));
    // Someone else sets a persistent PXE override and inserts their own media afterwards.
    const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;
    const sys = `${b.url}/redfish/v1/Systems/${b.systemId}`;
    const { request } = await import("undici");
    const { Agent } = await import("undici");
    const dispatcher = new Agent({ connect: { ca: lab.pki.caPem } });
    const patch = async (url: string, body: unknown) => {
      const r = await request(url, {
        method: "PATCH",
        dispatcher,
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await r.body.text();
      expect(r.statusCode).toBeLessThan(300);
    };
    await patch(sys, { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous" } });
    const slot = created.outs.discovery.slotPath as string;
    await patch(`${b.url}${slot}`, { Image: lab.url("dpu-os-2.0.iso"), Inserted: true });
    await dpuHost.delete?.(created.id, created.outs);
    const after = b.snapshot();
    expect(after.override).toMatchObject({ enabled: "Continuous", target: "Pxe" });
    expect(after.media).toMatchObject({ inserted: true, image: lab.url("dpu-os-2.0.iso") });
    await dispatcher.close();
  }, 60_000);
});
