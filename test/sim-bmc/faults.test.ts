import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, startLab, waitFor } from "./harness";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => lab?.close());

describe("fault injection", () => {
  it("latency, 503 with Retry-After, TCP resets, clearFaults, request counters", async () => {
    const { bmc } = await lab.bmc("generic");
    const ca = lab.pki.caPem;
    const before = bmc.snapshot().requests.GET ?? 0;
    bmc.setFaults({ latencyMs: 200 });
    const t0 = Date.now();
    expect((await rf(bmc, ca, "GET", "/redfish/v1")).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    bmc.setFaults({ latencyMs: 0, fail503Count: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await rf(bmc, ca, "GET", "/redfish/v1/Systems");
      expect(r.status).toBe(503);
      expect(r.headers["retry-after"]).toBe("1");
      expect(r.json.error["@Message.ExtendedInfo"][0].MessageId).toBe(
        "Base.1.22.ServiceTemporarilyUnavailable",
      );
    }
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems")).status).toBe(200);
    bmc.setFaults({ tcpResetCount: 1 });
    await expect(rf(bmc, ca, "GET", "/redfish/v1/Systems")).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems")).status).toBe(200);
    bmc.setFaults({ fail503Count: 5, tcpResetCount: 5, latencyMs: 1000 });
    bmc.clearFaults();
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems")).status).toBe(200);
    await rf(bmc, ca, "PATCH", "/redfish/v1/Systems/1", { body: { AssetTag: "a" } });
    const snap = bmc.snapshot();
    expect(snap.requests.GET).toBe(before + 7);
    expect(snap.requests.PATCH).toBe(1);
  });

  it("task delay keeps a task Running (monitor 202) for at least the delay; task fail ends in Exception", async () => {
    const { bmc } = await lab.bmc("intel-ipu");
    const ca = lab.pki.caPem;
    const action = "/redfish/v1/Systems/1/VirtualMedia/1/Actions/VirtualMedia.InsertMedia";
    bmc.setFaults({ taskDelayMs: 1500 });
    const t0 = Date.now();
    const up = await rf(bmc, ca, "POST", action, {
      body: { Image: lab.url("dpu-os-1.0.iso"), TransferMethod: "Upload" },
    });
    expect(up.status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    const mid = await rf(bmc, ca, "GET", up.headers.location as string);
    expect(mid.status).toBe(202);
    expect(mid.json.TaskState).toBe("Running");
    await waitFor(
      async () => (await rf(bmc, ca, "GET", up.headers.location as string)).status === 200,
      "task end",
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1490);
    bmc.setFaults({ taskDelayMs: 0, taskFailCount: 1 });
    const failing = await rf(bmc, ca, "POST", action, {
      body: { Image: lab.url("dpu-os-1.1.iso"), TransferMethod: "Upload" },
    });
    const task = `/redfish/v1/TaskService/Tasks/${failing.json.Id}`;
    await waitFor(async () => (await rf(bmc, ca, "GET", task)).json.TaskState === "Exception", "exception");
    const t = (await rf(bmc, ca, "GET", task)).json;
    expect(t.TaskStatus).toBe("Critical");
    expect(t.Messages[0].MessageId).toBe("Base.1.22.OperationFailed");
    // The counter was consumed: the next task succeeds.
    const ok = await rf(bmc, ca, "POST", action, {
      body: { Image: lab.url("dpu-os-1.1.iso"), TransferMethod: "Upload" },
    });
    await waitFor(
      async () =>
        (await rf(bmc, ca, "GET", `/redfish/v1/TaskService/Tasks/${ok.json.Id}`)).json.TaskState ===
        "Completed",
      "ok",
    );
  });

  it("boot fail: the next boot stops before the OS, the one after succeeds", async () => {
    const backend = new FakeBackend("bootfail", preinstalled());
    const { bmc } = await lab.bmc("bluefield", { backend });
    bmc.setFaults({ bootFailCount: 1 });
    await expect(bmc.powerOnAndWait()).rejects.toThrow(/bootFailCount/);
    expect(backend.running()).toBe(false);
    const sys = (await rf(bmc, lab.pki.caPem, "GET", "/redfish/v1/Systems/Bluefield")).json;
    expect(sys.BootProgress).toMatchObject({ LastState: "OEM", OemLastState: "UEFI" });
    expect(bmc.snapshot().lastBootError).toMatch(/bootFailCount/);
    await bmc.powerOnAndWait();
    expect(backend.running()).toBe(true);
    expect(bmc.snapshot().lastBootError).toBeUndefined();
  });

  it("concurrent requests are safe and every one is answered", async () => {
    const { bmc } = await lab.bmc("dell", { backend: new FakeBackend("conc", preinstalled()) });
    const ca = lab.pki.caPem;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? rf(bmc, ca, "PATCH", "/redfish/v1/Systems/System.Embedded.1", { body: { AssetTag: `t${i}` } })
          : rf(bmc, ca, "GET", "/redfish/v1/Systems/System.Embedded.1"),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});
