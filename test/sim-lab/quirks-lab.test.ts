import { readFileSync } from "node:fs";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, type LightLab, startLab, startLightLab } from "../../simulator";
import { ALL_BMC_PROFILES, QUIRK_BMC_PROFILES, type QuirkBmcProfileName } from "../../simulator/contracts";
import { sharedAvailable } from "../sim-bmc/harness";
import { type DpuEndpoint, pick, skipLab, ssh, until } from "./helpers";

const SKIP = skipLab() || !sharedAvailable();
const RACK = "/redfish/v1/Systems/437XR1138R2";
const TOWER = "/redfish/v1/Systems/437XR1238R2";

/** One HTTPS request with Basic authentication (the emulator-like profile has no sessions). */
function basic(
  d: DpuEndpoint,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const auth = Buffer.from(`${d.bmc.username}:${d.bmc.password}`).toString("base64");
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, d.bmc.url),
      {
        method,
        ca: readFileSync(d.bmc.caCertFile),
        headers: {
          Accept: "application/json",
          Authorization: `Basic ${auth}`,
          ...(data ? { "Content-Type": "application/json", "Content-Length": data.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** How each quirk profile takes an image: its CD slot and whether the slot has actions, or SimpleUpdate. */
const METHOD: Readonly<
  Record<QuirkBmcProfileName, { sys: string; slot?: string; actions?: boolean; update?: "http" | "scp-only" }>
> = {
  "quirk-idrac": { sys: RACK, slot: `${RACK}/VirtualMedia/CD1`, actions: true },
  "quirk-ilo": { sys: TOWER, slot: "/redfish/v1/Managers/BMC/VirtualMedia/CD1", actions: true },
  "quirk-supermicro": { sys: TOWER, slot: "/redfish/v1/Managers/1/VirtualMedia/CD1", actions: true },
  "quirk-xcc": { sys: RACK, slot: `${RACK}/VirtualMedia/CD1`, actions: false },
  "quirk-bluefield-old": { sys: "/redfish/v1/Systems/Bluefield", update: "scp-only" },
  "quirk-bluefield-new": { sys: "/redfish/v1/Systems/Bluefield", update: "http" },
  "quirk-emulator": { sys: TOWER, slot: "/redfish/v1/Managers/BMC/VirtualMedia/CD1", actions: true },
  "quirk-bare": { sys: RACK, slot: `${RACK}/VirtualMedia/CD1`, actions: false },
};

describe.skipIf(SKIP)(
  "one lab, one DPU per quirk profile: each boots an image by the method it supports",
  () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startLab({
        count: QUIRK_BMC_PROFILES.length,
        profile: QUIRK_BMC_PROFILES,
        bootTimeMs: 200,
        quirkTiming: { powerDelayMs: 200, staleBootProgressMs: 300 },
      });
    }, 180_000);
    afterAll(async () => {
      await lab?.stop();
    });

    const image = (name: string) => {
      const f = lab.endpoints.images.files.find((x) => x.name === name);
      if (!f) throw new Error(`no image ${name}`);
      return f;
    };
    /**
     * Waits until the BMC reports `label` installed and the OS running (no SSH attempt while the old OS is going
     * down), then reads /etc/os-release over SSH with the DPU's current host key.
     */
    const osAfterBoot = async (d: DpuEndpoint, label: string) => {
      const dpu = lab.dpus.get(d.name);
      if (!dpu) throw new Error(`no DPU ${d.name}`);
      await until(
        `${d.profile} to run ${label}`,
        async () =>
          dpu.bmc.snapshot().installedImage?.label === label && dpu.backend.running() ? true : undefined,
        60_000,
      );
      // The OS runs; its sshd may need a moment to listen.
      return until(`${d.profile}: SSH`, async () => {
        try {
          return (await ssh(d, "cat /etc/os-release", dpu.hostKeyFingerprint())).stdout;
        } catch {
          return undefined;
        }
      });
    };

    it("a list of profiles gives DPU i profile i", () => {
      expect(lab.endpoints.dpus.map((d) => d.profile)).toEqual([...QUIRK_BMC_PROFILES]);
    });

    it("media profiles boot dpu-os-1.1.iso, bluefield-new installs a BFB, bluefield-old refuses HTTP and reboots", async () => {
      const iso = image("dpu-os-1.1.iso");
      const bfb = image("bf-bundle-4.10.bfb");
      await Promise.all(
        lab.endpoints.dpus.map(async (d) => {
          const m = METHOD[d.profile as QuirkBmcProfileName];
          if (m.slot) {
            if (m.actions) {
              const ej = await basic(d, "POST", `${m.slot}/Actions/VirtualMedia.EjectMedia`, {});
              expect([204, 400], d.profile).toContain(ej.status); // 400: Supermicro, nothing inserted
              const ins = await basic(d, "POST", `${m.slot}/Actions/VirtualMedia.InsertMedia`, {
                Image: iso.url,
              });
              expect(ins.status, d.profile).toBe(204);
            } else {
              const p = await basic(d, "PATCH", m.slot, {
                Image: iso.url,
                Inserted: true,
                WriteProtected: true,
              });
              expect(p.status, d.profile).toBe(200);
            }
            const b = await basic(d, "PATCH", m.sys, {
              Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" },
            });
            expect(b.status, d.profile).toBe(200);
            const r = await basic(d, "POST", `${m.sys}/Actions/ComputerSystem.Reset`, {
              ResetType: "ForceRestart",
            });
            expect(r.status, d.profile).toBe(204);
            expect(await osAfterBoot(d, "DPUOS_1_1")).toContain(`DPU_IMAGE_SHA256=${iso.sha256}`);
            return;
          }
          const target = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate";
          const http = await basic(d, "POST", target, { ImageURI: bfb.url });
          if (m.update === "http") {
            expect(http.status, d.profile).toBe(202);
            expect(await osAfterBoot(d, bfb.label ?? "bf-bundle-4.10")).toContain(
              `DPU_IMAGE_SHA256=${bfb.sha256}`,
            );
            return;
          }
          // Older BlueField firmware: SCP only. HTTP is refused; SCP is pulled with the real scp, which reports
          // the closed port in the task (the transfer itself: adversary/host-bluefield-scp).
          expect(http.status, d.profile).toBe(400);
          const scp = await basic(d, "POST", target, { ImageURI: "scp://127.0.0.1:1/bf.bfb" });
          expect(scp.status).toBe(202);
          const taskUri = String((scp.body as Record<string, unknown>)["@odata.id"]);
          const task = await until("SCP task end", async () => {
            const t = (await basic(d, "GET", taskUri)).body;
            return pick(t, "TaskState") === "Exception" ? t : undefined;
          });
          expect(JSON.stringify(task)).toMatch(/SCP transfer from 127\.0\.0\.1 failed: .*Connection refused/);
          const r = await basic(d, "POST", `${m.sys}/Actions/ComputerSystem.Reset`, {
            ResetType: "ForceRestart",
          });
          expect(r.status).toBe(200);
          await until(`${d.profile} to go down`, async () =>
            lab.dpus.get(d.name)?.backend.running() ? undefined : true,
          );
          expect(await osAfterBoot(d, "DPUOS_1_0")).toContain("DPUOS_1_0");
        }),
      );
    }, 120_000);
  },
);

describe.skipIf(SKIP)("a light lab with profile mixed cycles through every profile", () => {
  let lab: LightLab;
  const notes: string[] = [];
  beforeAll(async () => {
    lab = await startLightLab({
      count: ALL_BMC_PROFILES.length,
      profile: "mixed",
      onProgress: (m) => notes.push(m),
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it("DPU i has profile i (hand-written first), each BMC answers, and nothing was left out", async () => {
    expect(lab.endpoints.dpus.map((d) => d.profile)).toEqual([...ALL_BMC_PROFILES]);
    expect(notes.filter((n) => n.includes("left out"))).toEqual([]);
    for (const d of lab.endpoints.dpus) {
      const r = await basic(d, "GET", `/redfish/v1/Systems/${d.bmc.systemId}`);
      expect(r.status, d.profile).toBe(200);
      expect(pick(r.body, "PowerState"), d.profile).toBe("On");
    }
  });
});
