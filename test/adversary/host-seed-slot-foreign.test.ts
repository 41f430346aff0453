import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { closeAllPools } from "../../provider/redfish";
import type { SimBmc } from "../../simulator/contracts";
import { identity, loopbackStage } from "../seed/fixtures";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, rf, sharedAvailable, startLab, USER } from "../sim-bmc/harness";
import { freePort } from "../stage/helpers";

/**
 * An operator's media in the slot the NoCloud seed would use (the generic BMC's only second slot, USB1) are never
 * ejected: DpuHost refuses before any write, naming the slot, the BMC and the image (its public URL: the
 * operator's credentials in it stay out), and says how to go on. The error names the action, the resource and
 * the BMC once each. The BMC's own state and the DPU's backend are the witnesses that nothing was written.
 */
const SKIP = !sharedAvailable();
const SLOT = "/redfish/v1/Managers/BMC/VirtualMedia/USB1";

describe.skipIf(SKIP)("DpuHost: media that are not ours in the seed's slot are refused, not ejected", () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  }, 60_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.close();
  });

  it("an operator's image in the second slot: refused before any write, naming slot, BMC and public URL once", async () => {
    const backend = new FakeBackend(`foreign-${Date.now()}`, preinstalled());
    const { bmc: b } = (await lab.bmc("generic", { backend, bootTimeMs: 600 })) as { bmc: SimBmc };
    await b.powerOnAndWait();
    // The operator puts a rescue image in USB1 by plain Redfish, with credentials in its URL.
    const foreign = new URL(lab.url("dpu-os-1.0.iso"));
    foreign.username = "operator";
    foreign.password = "op-media-secret-7";
    const slot = await rf(b, lab.pki.caPem, "GET", SLOT);
    const target = (slot.json as { Actions: Record<string, { target: string }> }).Actions[
      "#VirtualMedia.InsertMedia"
    ]?.target as string;
    const ins = await rf(b, lab.pki.caPem, "POST", target, { body: { Image: foreign.href } });
    expect(ins.status).toBeLessThan(300);
    const before = b.snapshot();
    expect(Object.values(before.extraMedia ?? {})).toEqual([foreign.href]);
    const callsBefore = [...backend.calls];

    const checked = await dpuHost.check?.(
      {},
      {
        bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
        image: { url: lab.url("dpu-os-1.1.iso"), method: "virtualMedia", timeoutMs: 8_000 },
        ready: { timeoutMs: 5_000 },
        identity: { ...identity({ hostname: "dpu-f.lab" }), hostKey: "generate" },
        stage: loopbackStage(await freePort()),
      },
    );
    expect(checked?.failures ?? []).toEqual([]);
    const err = (await dpuHost.create?.(checked?.inputs).catch((e: unknown) => e)) as Error & {
      properties?: unknown;
    };
    expect(err).toBeInstanceOf(Error);
    const msg = err.message;
    const origin = new URL(b.url).origin;
    // Action, resource, BMC and cause, each once.
    expect(msg).toMatch(/^create DpuHost \(system 1\): the NoCloud seed needs a second virtual-media slot/);
    expect(msg.split("DpuHost (").length - 1).toBe(1);
    expect(msg.split(origin).length - 1).toBe(1);
    expect(msg).toContain(`virtual media USB1 (${SLOT}) holds ${lab.url("dpu-os-1.0.iso")}`);
    expect(msg).toMatch(/eject it yourself/);
    expect(msg).not.toContain("op-media-secret-7");
    expect(msg).not.toContain("operator@");
    // Refused before any write: no partial resource, the slot still holds the operator's image, no install media,
    // no boot override, and the DPU was neither stopped nor reset.
    expect(err.properties).toBeUndefined();
    const after = b.snapshot();
    expect(after.extraMedia).toEqual(before.extraMedia);
    expect(after.media.inserted).toBe(false);
    expect(after.override).toEqual(before.override);
    expect(after.requests.PATCH ?? 0).toBe(before.requests.PATCH ?? 0);
    expect(backend.calls).toEqual(callsBefore);
  }, 30_000);

  it("a refusal after discovery names the action, the resource and the BMC once each, then the cause", async () => {
    // An Intel IPU-like BMC offers no UEFI HTTP boot: image.method uefiHttp is refused once discovery saw it.
    const { bmc: b } = (await lab.bmc("intel-ipu", {
      backend: new FakeBackend(`refuse-${Date.now()}`, preinstalled()),
      bootTimeMs: 600,
    })) as { bmc: SimBmc };
    await b.powerOnAndWait();
    const checked = await dpuHost.check?.(
      {},
      {
        bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
        image: { url: lab.url("dpu-os-1.1.iso"), method: "uefiHttp", timeoutMs: 8_000 },
        ready: { timeoutMs: 5_000 },
      },
    );
    expect(checked?.failures ?? []).toEqual([]);
    const err = (await dpuHost.create?.(checked?.inputs).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    const origin = new URL(b.url).origin;
    expect(err.message).toMatch(
      new RegExp(
        `^create DpuHost \\(system \\S+ on BMC ${origin.replace(/[.]/g, "\\.")}\\): image\\.method uefiHttp cannot be used: `,
      ),
    );
    expect(err.message.split("DpuHost").length - 1).toBe(1);
    expect(err.message.split(origin).length - 1).toBe(1);
    expect(err.message).not.toMatch(/the DPU's system|provision DpuHost/);
  }, 30_000);
});
