import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerShim } from "../../sdk/provider-shim";
import { type Lab, startLab } from "../../simulator";
import { missingCapability, skipOrFail } from "../capabilities";
import { type FleetKnobs, hostSpecs, nodeSpecs, type ProviderTexts } from "./fleet-specs";
import {
  type EngineHost,
  isSecret,
  makeProgramDir,
  type ProgramDir,
  REPO_ROOT,
  type ResourceSpec,
  type StepResult,
  serializeProvider,
  startEngineHost,
} from "./harness";

// The engine contract, end to end: the real dynamic-provider host (spawned like the engine does) runs the
// SDK's serialized shims, which load pulumi-dpu/provider from the program directory and drive a 3-DPU
// simulator lab. Create; converged no-op; drift behind the provider's back; update; replace; delete.

// DPU_CONTRACT_PULUMI_DPU=<dir> runs the contract against another pulumi-dpu package directory (e.g. a
// release candidate unpacked from `npm pack`); by default the program directory links this repository.
const PULUMI_DPU_DIR = process.env.DPU_CONTRACT_PULUMI_DPU ?? REPO_ROOT;

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  const built = providerEntry();
  if (!fs.existsSync(built)) return `${built} is not built (npm run build)`;
  const mod = require(built) as Record<string, unknown>;
  const missing = ["dpuHost", "dpuUnderlay", "dpuWorkload"].filter((k) => !mod[k]);
  if (missing.length) return `pulumi-dpu/provider does not export ${missing.join(", ")} yet`;
  return undefined;
}

/** The file `require("pulumi-dpu/provider")` gives from a program whose node_modules/pulumi-dpu is PULUMI_DPU_DIR. */
function providerEntry(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PULUMI_DPU_DIR, "package.json"), "utf8")) as {
    exports?: Record<string, string>;
  };
  const rel = pkg.exports?.["./provider"];
  if (!rel) throw new Error(`${PULUMI_DPU_DIR}/package.json exports no ./provider`);
  return path.join(PULUMI_DPU_DIR, rel);
}

const reason = (() => {
  try {
    return unavailable();
  } catch (e) {
    return `pulumi-dpu/provider cannot be loaded: ${(e as Error).message.split("\n")[0]}`;
  }
})();
skipOrFail("fleet contract test", reason);
const TOKEN = "agent-token-Qx7";
const KNOBS: FleetKnobs = { image: "dpu-os-1.1.iso", mtu: 1400, workloadName: "agent", greeting: "hello" };

describe.skipIf(reason !== undefined)(
  `fleet contract through the real host${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    let lab: Lab;
    let program: ProgramDir;
    let eh: EngineHost;
    let texts: ProviderTexts;
    let bmcPasswords: string[];

    const hosts = (k: FleetKnobs = KNOBS) => hostSpecs(lab.endpoints, texts, k);
    const hostKeys = () =>
      hosts().map((h) => String(eh.engine.get(eh.engine.urn(h.type, h.name))?.outputs.hostKeyFingerprint));
    const program3 = (k: FleetKnobs = KNOBS): ResourceSpec[] => [
      ...hostSpecs(lab.endpoints, texts, k),
      ...nodeSpecs(lab.endpoints, texts, k, hostKeys()),
    ];
    const ops = (rs: StepResult[]) => rs.map((r) => `${r.urn.split("::").at(-1)}:${r.op}`);

    beforeAll(async () => {
      lab = await startLab({ count: 3, profile: "generic", bootTimeMs: 300 });
      const d0 = lab.endpoints.dpus[0];
      if (!d0) throw new Error("empty lab");
      for (const d of lab.endpoints.dpus) expect(d.bmc.username).toBe(d0.bmc.username);
      bmcPasswords = lab.endpoints.dpus.map((d) => d.bmc.password);
      program = makeProgramDir("dpufleet", { "pulumi-dpu": PULUMI_DPU_DIR });
      texts = {
        host: (await serializeProvider(providerShim("dpuHost"))).text,
        underlay: (await serializeProvider(providerShim("dpuUnderlay"))).text,
        workload: (await serializeProvider(providerShim("dpuWorkload"))).text,
      };
      eh = await startEngineHost({
        programDir: program.dir,
        project: "dpufleet",
        config: {
          "dpu:bmcUsername": d0.bmc.username,
          "dpu:bmcCaCert": fs.readFileSync(lab.caFile, "utf8"),
          "dpu:sshPrivateKey": fs.readFileSync(lab.sshPrivateKeyFile, "utf8"),
        },
        secretKeys: ["dpu:sshPrivateKey"],
      });
    }, 180_000);

    afterAll(async () => {
      await eh?.close();
      program?.cleanup();
      await lab?.stop();
    }, 120_000);

    it("preview of a new stack: checks pass with unknowns, nothing is created", async () => {
      const mark = eh.engine.calls.length;
      const plan = await eh.engine.up(hosts(), { preview: true });
      expect(plan.map((r) => r.op)).toEqual(["create", "create", "create"]);
      expect(eh.engine.callsSince(mark).every((c) => c.method === "Check")).toBe(true);
    });

    it("up: creates 3 hosts, then 3 underlays and 3 workloads", async () => {
      const created = await eh.engine.up(hosts());
      expect(created.map((r) => r.op)).toEqual(["create", "create", "create"]);
      for (const h of created) expect(h.outputs.osRelease).toMatchObject({ IMAGE_ID: "DPUOS_1_1" });
      const rest = await eh.engine.up(program3());
      expect(ops(rest).filter((o) => o.endsWith(":create"))).toHaveLength(6);
      const wl = eh.engine.get(
        eh.engine.urn("pulumi-nodejs:dynamic/dpu:DpuWorkload", `${lab.endpoints.dpus[0]?.name}-agent`),
      );
      expect(wl?.outputs.status).toBe("running");
      expect(isSecret(wl?.outputs.secretEnv)).toBe(true);
      expect(typeof wl?.outputs.__provider).toBe("string");
      const host = eh.engine.get(created[0]?.urn ?? "");
      // The per-resource BMC password is secret in state inputs and outputs; the SSH key (from config) is absent.
      expect(isSecret((host?.inputs.bmc as Record<string, unknown>)?.password ?? null)).toBe(true);
      expect(isSecret((host?.outputs.bmc as Record<string, unknown>)?.password ?? null)).toBe(true);
      expect(JSON.stringify(host?.outputs)).not.toContain("PRIVATE KEY");
    }, 240_000);

    it("converged: a second up is a no-op (all DIFF_NONE)", async () => {
      const res = await eh.engine.up(program3());
      expect(res.map((r) => r.op)).toEqual(Array(9).fill("same"));
    }, 120_000);

    it("refresh of every resource through the real host: each Read crosses gRPC, nothing drifts", async () => {
      // The host sends outputs as a protobuf Struct; an `undefined` anywhere in a read's result failed every
      // DpuWorkload refresh with "Unexpected struct type." (found by the host-refresh bench, not by this suite).
      const urns = eh.engine.urns();
      expect(urns).toHaveLength(9);
      for (const urn of urns) {
        const r = await eh.engine.refresh(urn);
        expect(r.op, urn).toBe("refresh");
      }
      const res = await eh.engine.up(program3(), { preview: true });
      expect(res.map((r) => r.op)).toEqual(Array(9).fill("same"));
    }, 120_000);

    it("drift: an MTU changed on the DPU shows after refresh, and up puts it back", async () => {
      const d = lab.endpoints.dpus[1];
      const dpu = lab.dpus.get(d?.name ?? "");
      if (!d || !dpu) throw new Error("no DPU 1");
      execFileSync("ip", ["-n", dpu.netns, "link", "set", "dev", "p0", "mtu", "1500"]);
      const urn = eh.engine.urn("pulumi-nodejs:dynamic/dpu:DpuUnderlay", `${d.name}-underlay`);
      await eh.engine.refresh(urn);
      const refreshed = eh.engine.get(urn)?.inputs.interfaces as { mtu?: number }[];
      expect(refreshed[0]?.mtu).toBe(1500);
      const preview = await eh.engine.up(program3(), { preview: true });
      expect(ops(preview).filter((o) => !o.endsWith(":same"))).toEqual([`${d.name}-underlay:update`]);
      const fixed = await eh.engine.up(program3());
      expect(ops(fixed).filter((o) => !o.endsWith(":same"))).toEqual([`${d.name}-underlay:update`]);
      const mtu = execFileSync("ip", ["-n", dpu.netns, "-o", "link", "show", "dev", "p0"], {
        encoding: "utf8",
      });
      expect(mtu).toMatch(/mtu 1400/);
    }, 120_000);

    it("update: a changed workload env redeploys the workloads in place", async () => {
      const k = { ...KNOBS, greeting: "bonjour" };
      const res = await eh.engine.up(program3(k));
      expect(
        ops(res)
          .filter((o) => !o.endsWith(":same"))
          .sort(),
      ).toEqual(lab.endpoints.dpus.map((d) => `${d.name}-agent:update`).sort());
    }, 120_000);

    it("replace: renaming the workload deletes it before creating the new one", async () => {
      const k = { ...KNOBS, greeting: "bonjour", workloadName: "agent2" };
      const mark = eh.engine.calls.length;
      const res = await eh.engine.up(program3(k));
      expect(
        ops(res)
          .filter((o) => !o.endsWith(":same"))
          .sort(),
      ).toEqual(lab.endpoints.dpus.map((d) => `${d.name}-agent:replace`).sort());
      const seq = eh.engine
        .callsSince(mark)
        .filter((c) => c.urn?.endsWith(`${lab.endpoints.dpus[0]?.name}-agent`))
        .map((c) => c.method);
      expect(seq).toEqual(["Check", "Diff", "Delete", "Create"]);
    }, 120_000);

    it("delete: destroy removes everything; no secret reached the provider host's output", async () => {
      const res = await eh.engine.destroy();
      expect(res).toHaveLength(9);
      expect(eh.engine.urns()).toEqual([]);
      const logs = eh.host.stdout() + eh.host.stderr();
      expect(logs).not.toContain(TOKEN);
      for (const p of bmcPasswords) expect(logs).not.toContain(p);
    }, 180_000);
  },
);
