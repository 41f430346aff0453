import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { missingCapability, skipOrFail } from "../capabilities";
import { type EngineHost, linkModules, REPO_ROOT } from "../engine/harness";
import { installHostMocks, settle } from "./host-mocks";
import { startLabStack, stopLabStack } from "./lab-stack";

// examples/fleet, run as a program under setMocks whose newResource goes through the real dynamic-provider
// host (started in the example's directory) to the real providers and a 3-DPU simulator lab: preview plans
// 9 creates and provisions nothing; up provisions the fleet in dependency order; a second up is a no-op.

const EXAMPLE = path.join(REPO_ROOT, "examples", "fleet");
// As in test/engine/fleet-contract.test.ts: another pulumi-dpu package directory may be linked instead.
const PULUMI_DPU_DIR = process.env.DPU_CONTRACT_PULUMI_DPU ?? REPO_ROOT;

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  if (!fs.existsSync(path.join(PULUMI_DPU_DIR, "dist", "sdk", "index.js")))
    return "dist/ is not built (npm run build)";
  const pkg = JSON.parse(fs.readFileSync(path.join(PULUMI_DPU_DIR, "package.json"), "utf8")) as {
    exports: Record<string, string>;
  };
  const mod = require(path.join(PULUMI_DPU_DIR, pkg.exports["./provider"] ?? "")) as Record<string, unknown>;
  const missing = ["dpuHost", "dpuUnderlay", "dpuWorkload"].filter((k) => !mod[k]);
  return missing.length ? `pulumi-dpu/provider does not export ${missing.join(", ")} yet` : undefined;
}

const reason = (() => {
  try {
    return unavailable();
  } catch (e) {
    return `pulumi-dpu/provider cannot be loaded: ${(e as Error).message.split("\n")[0]}`;
  }
})();
skipOrFail("examples/fleet program test", reason);

type ExampleModule = {
  images: pulumi.Output<Record<string, string>>;
  agents: pulumi.Output<Record<string, string>>;
};

describe.skipIf(reason !== undefined)(
  `examples/fleet program${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    let lab: Lab;
    let eh: EngineHost;
    let tmp: string;

    async function runProgram(preview: boolean) {
      const steps = await installHostMocks(eh.engine, { project: "dpufleet", preview });
      vi.resetModules();
      const mod = (await import("../../examples/fleet/index.js")) as ExampleModule;
      const [images, agents] = await Promise.all([settle(mod.images), settle(mod.agents)]);
      return { steps, images, agents };
    }

    beforeAll(async () => {
      lab = await startLab({ count: 3, profile: "generic", bootTimeMs: 300 });
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dpufleet-"));
      const endpointsFile = path.join(tmp, "endpoints.json");
      fs.writeFileSync(endpointsFile, JSON.stringify(lab.endpoints));
      linkModules(EXAMPLE, { "pulumi-dpu": PULUMI_DPU_DIR });
      eh = await startLabStack(lab, EXAMPLE, "dpufleet", { "dpufleet:endpointsFile": endpointsFile });
    }, 180_000);

    afterAll(async () => {
      await stopLabStack(eh, lab);
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }, 120_000);

    it("preview plans 9 creates and sends no Create", async () => {
      const mark = eh.engine.calls.length;
      const { steps } = await runProgram(true);
      expect(steps.map((s) => s.op)).toEqual(Array(9).fill("create"));
      expect(eh.engine.callsSince(mark).some((c) => c.method === "Create")).toBe(false);
    }, 60_000);

    it("up provisions the fleet, host → underlay → workload per DPU", async () => {
      const { steps, images, agents } = await runProgram(false);
      expect(steps.map((s) => s.op)).toEqual(Array(9).fill("create"));
      expect(images).toEqual({ "dpu-0": "DPUOS_1_1", "dpu-1": "DPUOS_1_1", "dpu-2": "DPUOS_1_1" });
      expect(Object.values(agents ?? {})).toEqual(["running", "running", "running"]);
      for (const d of lab.endpoints.dpus) {
        const at = (suffix: string) => steps.find((s) => s.name === `${d.name}-${suffix}`);
        expect(at("underlay")?.start).toBeGreaterThanOrEqual(at("host")?.end ?? Number.POSITIVE_INFINITY);
        expect(at("agent")?.start).toBeGreaterThanOrEqual(at("underlay")?.end ?? Number.POSITIVE_INFINITY);
      }
    }, 120_000);

    it("a second up is a no-op", async () => {
      const { steps } = await runProgram(false);
      expect(steps.map((s) => s.op)).toEqual(Array(9).fill("same"));
    }, 60_000);
  },
);
