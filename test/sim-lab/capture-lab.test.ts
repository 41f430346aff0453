import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { sharedAvailable } from "../sim-bmc/harness";
import { type DpuEndpoint, login, pick, rf, skipLab, ssh, until } from "./helpers";

const SKIP = skipLab() || !sharedAvailable();

describe.skipIf(SKIP)(
  "DPU lab on a capture-backed BMC (capture-tower: PATCH-only media under the manager)",
  () => {
    let lab: Lab;
    let dpu: DpuEndpoint;
    beforeAll(async () => {
      lab = await startLab({ count: 1, profile: "capture-tower", bootTimeMs: 200 });
      dpu = lab.endpoints.dpus[0] as DpuEndpoint;
    }, 120_000);
    afterAll(async () => {
      await lab?.stop();
    });

    it("the captured system is the lab DPU; an ISO inserted by PATCH boots once through the same DPU OS backend", async () => {
      expect(dpu.profile).toBe("capture-tower");
      expect(dpu.bmc.systemId).toBe("437XR1238R2");
      expect((await ssh(dpu, "cat /etc/os-release")).stdout).toMatch(/1\.0/);
      const token = await login(dpu);
      const sys = `/redfish/v1/Systems/${dpu.bmc.systemId}`;
      const cd = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";
      const iso = lab.endpoints.images.files.find((f) => f.name === "dpu-os-1.1.iso");
      expect(iso).toBeDefined();
      const ins = await rf(dpu, "PATCH", cd, { token, body: { Image: iso?.url, Inserted: true } });
      expect(ins.status).toBe(200);
      const boot = await rf(dpu, "PATCH", sys, {
        token,
        body: { Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" } },
      });
      expect(boot.status).toBe(200);
      const reset = await rf(dpu, "POST", `${sys}/Actions/ComputerSystem.Reset`, {
        token,
        body: { ResetType: "ForceRestart" },
      });
      expect(reset.status).toBe(204);
      const fp = await until(
        "the DPU to boot the inserted ISO",
        async () => {
          const s = await rf(dpu, "GET", sys, { token });
          if (pick(s.body, "Boot.BootSourceOverrideEnabled") !== "Disabled") return undefined;
          return lab.dpus.get(dpu.name)?.hostKeyFingerprint();
        },
        60_000,
      );
      const os = await until(
        "SSH on the new OS",
        async () => {
          try {
            const r = await ssh(dpu, "cat /etc/os-release", fp);
            return r.stdout.includes("1.1") ? r.stdout : undefined;
          } catch {
            return undefined;
          }
        },
        60_000,
      );
      expect(os).toMatch(/1\.1/);
      // No BootProgress in this capture, and none appears.
      expect(pick((await rf(dpu, "GET", sys, { token })).body, "BootProgress")).toBeUndefined();
    }, 180_000);
  },
);
