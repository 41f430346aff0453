import { describe, expect, it } from "vitest";
import { dpuNamer } from "../../cli/demo-names";

const endpoints = {
  dpus: [0, 1, 2].map((i) => ({
    name: `dpu-${i}`,
    bmc: { url: `https://127.0.0.1:4000${i}`, systemId: "1" },
  })),
} as unknown as Parameters<typeof dpuNamer>[0];

describe("demo progress names the DPU, not its BMC URL and system id", () => {
  const name = dpuNamer(endpoints);

  it("DpuHost lines of three DPUs with the same system id are told apart", () => {
    const lines = [0, 1, 2].map((i) =>
      name(`[dpu] DpuHost https://127.0.0.1:4000${i}: waiting for DPU 1 to boot: 2s elapsed, last: power On`),
    );
    expect(lines).toEqual([
      "[dpu] DpuHost dpu-0-host (BMC https://127.0.0.1:40000): waiting for dpu-0 to boot: 2s elapsed, last: power On",
      "[dpu] DpuHost dpu-1-host (BMC https://127.0.0.1:40001): waiting for dpu-1 to boot: 2s elapsed, last: power On",
      "[dpu] DpuHost dpu-2-host (BMC https://127.0.0.1:40002): waiting for dpu-2 to boot: 2s elapsed, last: power On",
    ]);
  });

  it("a scope with the system id, and lines about no known BMC, are handled", () => {
    expect(name("[dpu] DpuHost https://127.0.0.1:40002/1: DPU 1 to boot: done after 1s")).toBe(
      "[dpu] DpuHost dpu-2-host (BMC https://127.0.0.1:40002): dpu-2 to boot: done after 1s",
    );
    expect(name("[dpu] DpuHost https://10.0.0.5: reset 1")).toBe("[dpu] DpuHost https://10.0.0.5: reset 1");
    // Port 400011 is not the BMC at port 40001.
    expect(name("[dpu] DpuHost https://127.0.0.1:400011: DPU 1")).toBe(
      "[dpu] DpuHost https://127.0.0.1:400011: DPU 1",
    );
    expect(name("[dpu] DpuWorkload agent: removed")).toBe("[dpu] DpuWorkload agent: removed");
  });

  it("names the resource (dpu-0-host, as the engine does); the provider says `system 1`, not a bare id like a count", () => {
    expect(
      name(
        "[dpu] DpuHost https://127.0.0.1:40000: provisioning system 1 with http://i/a.iso via VirtualMedia",
      ),
    ).toBe(
      "[dpu] DpuHost dpu-0-host (BMC https://127.0.0.1:40000): provisioning system 1 with http://i/a.iso via VirtualMedia",
    );
    expect(name("[dpu] DpuHost https://127.0.0.1:40001: reset system 1 with ForceRestart")).toBe(
      "[dpu] DpuHost dpu-1-host (BMC https://127.0.0.1:40001): reset system 1 with ForceRestart",
    );
    expect(name("[dpu] DpuHost https://127.0.0.1:40001: reset system 1 again with ForceOff")).toBe(
      "[dpu] DpuHost dpu-1-host (BMC https://127.0.0.1:40001): reset system 1 again with ForceOff",
    );
  });
});
