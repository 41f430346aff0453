import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { linkModules, REPO_ROOT } from "../engine/harness";
import { settle } from "./host-mocks";
import { installRecordingMocks, type Registration } from "./mock-recorder";

// examples/component-library under setMocks: the Rack component reads its CSV and YAML inventories, plans
// canary-first waves, and the second rack (dependsOn the first) starts only after the first one finished.

const EXAMPLE = path.join(REPO_ROOT, "examples", "component-library");
const HOST = "pulumi-nodejs:dynamic/dpu:DpuHost";

type Mod = { plan: { r12: string[][]; r13: string[][] }; failed: { r12: pulumi.Output<string[]> } };

describe("examples/component-library", () => {
  let log: Registration[];
  let mod: Mod;

  beforeAll(async () => {
    linkModules(EXAMPLE);
    log = await installRecordingMocks({
      delayMs: (t) => (t === HOST ? 15 : 0),
      outputs: (t) => (t === HOST ? { hostKeyFingerprint: "SHA256:x", installedImage: { url: "u" } } : {}),
    });
    pulumi.runtime.setAllConfig({ "dpufleet:imageUrl": "http://127.0.0.1:1/dpu-os-1.1.iso" });
    vi.resetModules();
    mod = (await import("../../examples/component-library/index.js")) as Mod;
    await settle(mod.failed.r12);
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);

  it("plans waves from CSV and YAML inventories", () => {
    expect(mod.plan.r12).toEqual([
      ["r12-dpu-0"],
      ["r12-dpu-1", "r12-dpu-2", "r12-dpu-3", "r12-dpu-4"],
      ["r12-dpu-5"],
    ]);
    expect(mod.plan.r13).toEqual([["r13-dpu-0"], ["r13-dpu-1", "r13-dpu-2"]]);
  });

  it("rolls out wave after wave, and rack r13 only after rack r12", () => {
    const hosts = log.filter((r) => r.type === HOST);
    expect(hosts).toHaveLength(9);
    const at = (n: string) => hosts.find((h) => h.name === `${n}-host`);
    const end = (names: string[]) => Math.max(...names.map((n) => at(n)?.end ?? Number.POSITIVE_INFINITY));
    const start = (names: string[]) =>
      Math.min(...names.map((n) => at(n)?.start ?? Number.NEGATIVE_INFINITY));
    const waves = [...mod.plan.r12, ...mod.plan.r13];
    for (let i = 1; i < waves.length; i++) {
      expect(start(waves[i] ?? [])).toBeGreaterThanOrEqual(end(waves[i - 1] ?? []));
    }
    // Conventions baked into the component: per-rack addressing and the telemetry workload.
    const u = log.find((r) => r.name === "r13-dpu-1-underlay");
    expect(JSON.stringify(u?.inputs.interfaces)).toContain("198.19.13.2/24");
    expect(log.some((r) => r.name === "r12-dpu-5-telemetry")).toBe(true);
  });
});
