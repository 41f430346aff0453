import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostInputs, dpuHost } from "../../provider/resources/dpu-host";
import { type Lab, startLab } from "../../simulator";
import { inputsFor, labAvailable } from "../dpu-host/helpers";

// Issue 13 (hostile review, findings 3-5): inputs that cannot mean what they say were accepted and then ignored
// or misused. A virtual-media slot id the BMC does not have silently fell back to UEFI HTTP (or was misreported);
// caCert with insecureSkipVerify: true ignored the CA; an scp:// image with method virtualMedia passed check().
// Each is refused before anything changes, naming the field and what is allowed.

describe.skipIf(!labAvailable())("DpuHost: inputs refused before any change", () => {
  let lab: Lab;
  const snap = () => {
    const t = lab.dpus.get(lab.endpoints.dpus[0]?.name ?? "");
    if (!t) throw new Error("no DPU");
    return t.bmc.snapshot();
  };
  /** Requests that change something on the BMC (a session login is a POST, so sessions are off: Basic). */
  const writes = () => {
    const r = snap().requests;
    return (r.POST ?? 0) + (r.PATCH ?? 0) + (r.PUT ?? 0) + (r.DELETE ?? 0);
  };
  const base = (method?: "virtualMedia" | "uefiHttp"): DpuHostInputs => {
    const i = inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso", method ? { method } : {});
    return { ...i, bmc: { ...i.bmc, auth: "basic" } };
  };

  beforeAll(async () => {
    lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  }, 180_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.stop();
  });

  it("a bmc.virtualMediaId the BMC does not have: refused, naming the slots it has, nothing changed", async () => {
    for (const method of [undefined, "virtualMedia", "uefiHttp"] as const) {
      const i = base(method);
      const before = writes();
      const err = await dpuHost
        .create?.({ ...i, bmc: { ...i.bmc, virtualMediaId: "CD9" } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^create DpuHost /);
      expect(msg).toContain("no virtual media slot 'CD9' for system 1; slots: ");
      expect(msg).toMatch(/slots: [^.]*CD1/);
      expect(msg).toContain("nothing was changed");
      expect(writes()).toBe(before);
      expect(snap().media.inserted).toBe(false);
    }
  });

  it("bmc.caCert with insecureSkipVerify: true is refused by check()", async () => {
    const i = base();
    const c = await dpuHost.check?.({}, { ...i, bmc: { ...i.bmc, insecureSkipVerify: true } });
    expect(c?.failures).toEqual([
      {
        property: "bmc.insecureSkipVerify",
        reason: expect.stringContaining("bmc.caCert and bmc.insecureSkipVerify: true contradict each other"),
      },
    ]);
    // Either alone is fine.
    const ok = await dpuHost.check?.({}, i);
    expect(ok?.failures ?? []).toEqual([]);
  });

  it("an scp:// or sftp:// image with method virtualMedia or uefiHttp is refused by check(); simpleUpdate takes it", async () => {
    for (const scheme of ["scp", "sftp"]) {
      for (const method of ["virtualMedia", "uefiHttp"] as const) {
        const i = base(method);
        const url = `${scheme}://imguser:Scp-Pw-77@127.0.0.1/dpu-os-1.1.iso`;
        const c = await dpuHost.check?.({}, { ...i, image: { ...i.image, url } });
        expect(c?.failures).toEqual([
          {
            property: "image.url",
            reason: `image.url is ${scheme}://, which only image.method simpleUpdate can use; image.method ${method} needs an http:// or https:// URL`,
          },
        ]);
        expect(JSON.stringify(c?.failures)).not.toContain("Scp-Pw-77");
      }
      const i = base();
      const su = await dpuHost.check?.(
        {},
        { ...i, image: { url: `${scheme}://127.0.0.1/dpu.bfb`, method: "simpleUpdate" } },
      );
      expect(su?.failures ?? []).toEqual([]);
    }
  });

  it("an scp:// ISO without a method on a BMC that boots only from http(s): the image never reaches the BMC", async () => {
    const i = base();
    const before = writes();
    const url = "scp://imguser:Scp-Pw-78@127.0.0.1/dpu-os-1.1.iso";
    const err = await dpuHost.create?.({ ...i, image: { url, timeoutMs: 10_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain("virtualMedia: image.url is scp://, which only simpleUpdate can use");
    expect(msg).not.toContain("Scp-Pw-78");
    expect(writes()).toBe(before);
    expect(snap().media.inserted).toBe(false);
  });
});
