import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Sdk from "../../sdk";
import { type Lab, startLab } from "../../simulator";
import { missingCapability, skipOrFail } from "../capabilities";
import { type EngineHost, linkModules, REPO_ROOT } from "../engine/harness";
import { type HostStep, installHostMocks, settle } from "./host-mocks";
import { startLabStack, stopLabStack } from "./lab-stack";

// DpuFleet's rollout waves with the real providers: setMocks sends every resource through the real
// dynamic-provider host to a 5-DPU simulator lab. Wave order is proven by the observed start and end times of
// the real Create calls, not by mock delays.

const PROGRAM = path.join(REPO_ROOT, "examples", "fleet");
const HOST = "pulumi-nodejs:dynamic/dpu:DpuHost";

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "sdk", "index.js")))
    return "dist/ is not built (npm run build)";
  return undefined;
}
const reason = unavailable();
skipOrFail("DpuFleet lab test", reason);

describe.skipIf(reason !== undefined)("DpuFleet waves against the simulator, through the real host", () => {
  let lab: Lab;
  let eh: EngineHost;

  beforeAll(async () => {
    lab = await startLab({ count: 5, profile: "mixed", bootTimeMs: 600 });
    linkModules(PROGRAM);
    eh = await startLabStack(lab, PROGRAM, "dpufleet");
  }, 180_000);

  afterAll(async () => {
    await stopLabStack(eh, lab);
  }, 120_000);

  it("canary, then batches of two: each wave's first Create starts after the previous wave's last one ended", async () => {
    const steps: HostStep[] = await installHostMocks(eh.engine, { project: "dpufleet" });
    // The SDK as a program loads it (native require from the program directory), so the serialized provider
    // is the production shim, not a vitest-transformed module.
    const { DpuFleet } = createRequire(path.join(PROGRAM, "index.ts"))("pulumi-dpu") as typeof Sdk;
    const image = lab.endpoints.images.files.find((f) => f.name === "dpu-os-1.1.iso")!;
    const fleet = new DpuFleet("rack", {
      inventory: lab.endpoints.dpus.map((d) => ({ name: d.name, index: d.name.slice(4) })),
      rollout: { canary: 1, batchSize: 2 },
      node: (e, i) => {
        const d = lab.endpoints.dpus[i]!;
        const ssh = { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username };
        return {
          host: {
            bmc: { endpoint: d.bmc.url, password: pulumi.secret(d.bmc.password) },
            image: { url: image.url, sha256: image.sha256 },
            ready: { ssh },
          },
          workloads: [
            {
              connection: ssh,
              name: "agent",
              runtime: "process",
              command: ["sleep", "3600"],
              env: { NODE: e.name },
              health: { command: ["true"], intervalMs: 200 },
            },
          ],
        };
      },
    });
    expect(fleet.waves.map((w) => w.nodes)).toEqual([["dpu-0"], ["dpu-1", "dpu-2"], ["dpu-3", "dpu-4"]]);
    expect(await settle(fleet.failed)).toEqual([]);

    expect(steps.map((s) => s.op)).toEqual(Array(10).fill("create"));
    const of = (node: string) => steps.filter((s) => s.name.startsWith(`${node}-`));
    const waves = fleet.waves.map((w) => w.nodes.flatMap(of));
    for (let k = 1; k < waves.length; k++) {
      const prevEnd = Math.max(...(waves[k - 1] ?? []).map((s) => s.end));
      const start = Math.min(...(waves[k] ?? []).map((s) => s.start));
      expect(start).toBeGreaterThanOrEqual(prevEnd);
    }
    // Inside a wave the nodes are provisioned concurrently: the two reflashes of wave 2 overlap.
    const [h1, h2] = ["dpu-1", "dpu-2"].map((n) =>
      steps.find((s) => s.name === `${n}-host` && s.type === HOST),
    );
    expect(h1 && h2 && h1.start < h2.end && h2.start < h1.end).toBe(true);
    // Each DPU really runs the image (the BMC says so), and its workload started after its host was ready.
    for (const d of lab.dpus.values()) expect(d.backend.installedImage()?.label).toBe("DPUOS_1_1");
    for (const n of ["dpu-0", "dpu-4"]) {
      const host = steps.find((s) => s.name === `${n}-host`);
      const agent = steps.find((s) => s.name === `${n}-agent`);
      expect(agent?.start).toBeGreaterThanOrEqual(host?.end ?? Number.POSITIVE_INFINITY);
    }
    const fmt = (s: HostStep[]) =>
      `${Math.round(Math.min(...s.map((x) => x.start)) - steps[0]!.start)}–${Math.round(Math.max(...s.map((x) => x.end)) - steps[0]!.start)} ms`;
    console.log(`DpuFleet waves (real Creates): ${waves.map(fmt).join(", ")}`);
  }, 180_000);
});
