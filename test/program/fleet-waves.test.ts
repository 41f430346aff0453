import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { DpuFleet, type DpuInventoryEntry, type DpuNodeArgs } from "../../sdk";
import {
  installRecordingMocks,
  outputValue,
  type Registration,
  withCapturedRejections,
} from "./mock-recorder";

// Components under pulumi.runtime.setMocks: wave order proven by the observed start/end times of each
// registration (the mock provisions each resource for a few ms).

const HOST = "pulumi-nodejs:dynamic/dpu:DpuHost";
const WORKLOAD = "pulumi-nodejs:dynamic/dpu:DpuWorkload";

function inventory(n: number): DpuInventoryEntry[] {
  return Array.from({ length: n }, (_, i) => ({ name: `dpu-${i}`, bmc: `https://127.0.0.1:${4430 + i}` }));
}

function node(e: DpuInventoryEntry): DpuNodeArgs {
  return {
    host: {
      bmc: { endpoint: String(e.bmc) },
      image: { url: "http://127.0.0.1:1/dpu-os-1.1.iso" },
    } as DpuNodeArgs["host"],
    workloads: [{ connection: { host: "127.0.0.1" }, name: "agent", command: ["/bin/true"] }],
  };
}

async function settle(fleet: DpuFleet): Promise<string[]> {
  return outputValue(fleet.failed);
}

function span(log: Registration[], names: string[]): { start: number; end: number } {
  const rs = log.filter((r) => names.some((n) => r.name.startsWith(`${n}-`)));
  return { start: Math.min(...rs.map((r) => r.start)), end: Math.max(...rs.map((r) => r.end)) };
}

beforeEach(() => {
  vi.resetModules();
});

describe("DpuFleet waves", () => {
  it("canary first, then batches, each wave after the previous one ended; nodes run host → workload", async () => {
    const log = await installRecordingMocks({ delayMs: (t) => (t.startsWith("pulumi-nodejs") ? 30 : 0) });
    const fleet = new DpuFleet("rack", {
      inventory: inventory(5),
      node,
      rollout: { canary: 1, batchSize: 2 },
    });
    expect(fleet.waves.map((w) => w.nodes)).toEqual([["dpu-0"], ["dpu-1", "dpu-2"], ["dpu-3", "dpu-4"]]);
    expect(await settle(fleet)).toEqual([]);
    const waves = fleet.waves.map((w) => span(log, [...w.nodes]));
    for (let i = 1; i < waves.length; i++) {
      expect(waves[i]?.start).toBeGreaterThanOrEqual(waves[i - 1]?.end ?? Number.POSITIVE_INFINITY);
    }
    // Inside a wave, nodes run concurrently: the two hosts of wave 2 overlap.
    const h1 = log.find((r) => r.name === "dpu-1-host");
    const h2 = log.find((r) => r.name === "dpu-2-host");
    expect(h1 && h2 && h1.start < h2.end && h2.start < h1.end).toBe(true);
    // Per node: the workload starts after the host ended.
    for (const n of ["dpu-0", "dpu-3"]) {
      const host = log.find((r) => r.name === `${n}-host` && r.type === HOST);
      const wl = log.find((r) => r.name === `${n}-agent` && r.type === WORKLOAD);
      expect(wl?.start).toBeGreaterThanOrEqual(host?.end ?? Number.POSITIVE_INFINITY);
    }
    expect(log.filter((r) => r.type === HOST)).toHaveLength(5);
  });

  it("a failure beyond the budget keeps every later wave from starting", async () => {
    const log = await installRecordingMocks({ failNames: ["dpu-0-host"] });
    const { result, rejections } = await withCapturedRejections(async () => {
      const fleet = new DpuFleet("rack", {
        inventory: inventory(4),
        node,
        rollout: { canary: 1, batchSize: 3 },
      });
      return settle(fleet);
    });
    expect(result).toEqual(["dpu-0"]);
    expect(log.filter((r) => r.type === HOST).map((r) => r.name)).toEqual(["dpu-0-host"]);
    // What `pulumi up` would print: the failed host, its dependents, and why later waves did not start.
    expect(rejections.some((m) => m.includes("dpu-0-host failed to provision"))).toBe(true);
    expect(
      rejections.some((m) =>
        m.includes("rack: the waves after wave 1 were not started: 1 node(s) failed (dpu-0)"),
      ),
    ).toBe(true);
    expect(rejections.every((m) => m.includes("dpu-0") || m.includes("were not started"))).toBe(true);
  });

  it("failures within the budget let the next wave start, depending only on the nodes that succeeded", async () => {
    const log = await installRecordingMocks({ failNames: ["dpu-1-host"], delayMs: () => 10 });
    const { result, rejections } = await withCapturedRejections(async () => {
      const fleet = new DpuFleet("rack", {
        inventory: inventory(5),
        node,
        rollout: { canary: 1, batchSize: 2, failureBudget: 1 },
      });
      return settle(fleet);
    });
    expect(result).toEqual(["dpu-1"]);
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.every((m) => m.includes("dpu-1-host"))).toBe(true);
    const hosts = log.filter((r) => r.type === HOST).map((r) => r.name);
    expect(hosts.sort()).toEqual(["dpu-0-host", "dpu-1-host", "dpu-2-host", "dpu-3-host", "dpu-4-host"]);
    const wave2 = span(log, ["dpu-1", "dpu-2"]);
    const wave3 = span(log, ["dpu-3", "dpu-4"]);
    expect(wave3.start).toBeGreaterThanOrEqual(wave2.end);
  });

  it("preview registers every wave (the plan is visible) without provisioning anything", async () => {
    const log = await installRecordingMocks({ preview: true });
    const fleet = new DpuFleet("rack", {
      inventory: inventory(3),
      node,
      rollout: { canary: 1, batchSize: 1 },
    });
    await settle(fleet);
    expect(log.filter((r) => r.type === HOST)).toHaveLength(3);
    expect(pulumi.runtime.isDryRun()).toBe(true);
  });
});
