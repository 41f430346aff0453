/**
 * Independent clients against the simulator: Ironic's Redfish library (sushy) and Ansible's community.general
 * redfish modules run their own provisioning sequence on every BMC profile (insert an ISO, boot once from CD,
 * restart, wait for power On, eject; on the profile without virtual media: boot override, SimpleUpdate of a
 * bundle, restart). Each run is then checked against the simulator's own state, not against the client's word:
 * the DPU really runs the image the client chose, the media is out, the power is On, the override was consumed.
 * If a real client fails on a profile, the profile is suspect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BMC_PROFILES, type BmcProfileName, type Lab, startLab } from "../../simulator";
import { skipLab, until } from "../sim-lab/helpers";
import { type ClientRun, type OraclePlan, runAnsible, runSushy, skipClients } from "./run-clients";

const skip = skipLab() || skipClients();

/** The profile without virtual media; everything else takes an ISO. */
const NO_VIRTUAL_MEDIA: ReadonlySet<BmcProfileName> = new Set(["bluefield"]);
/** Which image each client provisions, so the DPU's disk tells which client's run it saw. */
const IMAGES = {
  sushy: { iso: "dpu-os-1.1.iso", bfb: "bf-bundle-4.9.bfb" },
  ansible: { iso: "dpu-os-2.0.iso", bfb: "bf-bundle-4.10.bfb" },
} as const;
type ClientName = keyof typeof IMAGES;

describe.skipIf(skip)("independent clients (sushy, Ansible community.general) on every profile", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ count: BMC_PROFILES.length, profile: "mixed", bootTimeMs: 300 });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  function imageOf(name: string) {
    const f = lab.endpoints.images.files.find((i) => i.name === name);
    if (!f) throw new Error(`lab has no image ${name}`);
    return f;
  }

  /** Waits until the simulated DPU runs an OS again after a client's run, and returns the BMC's view. */
  async function settled(index: number) {
    const d = lab.endpoints.dpus[index];
    if (!d) throw new Error(`no DPU ${index}`);
    const dpu = lab.dpus.get(d.name);
    if (!dpu) throw new Error(`no DPU ${d.name}`);
    return until(
      `${d.name} (${d.profile}) to run its OS`,
      async () => {
        const s = dpu.bmc.snapshot();
        const running =
          s.bootProgress.lastState === "OSRunning" || s.bootProgress.oemLastState === "OsIsRunning";
        return s.powerState === "On" && running && dpu.backend.running() ? s : undefined;
      },
      30_000,
    );
  }

  function explain(client: ClientName, r: ClientRun): string {
    return `${client} run failed (exit ${r.code}):\n${r.output}`;
  }

  function planFor(client: ClientName, index: number) {
    const d = lab.endpoints.dpus[index];
    if (!d) throw new Error(`no DPU ${index}`);
    const noVm = NO_VIRTUAL_MEDIA.has(d.profile);
    const img = imageOf(noVm ? IMAGES[client].bfb : IMAGES[client].iso);
    const plan: OraclePlan = noVm
      ? { bfb: img.url, bfbTarget: "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS" }
      : { image: img.url };
    return { d, noVm, img, plan };
  }

  /** One ansible-playbook run for every DPU, started by the first Ansible test (after every sushy test). */
  let ansibleRuns: Promise<Map<string, ClientRun>> | undefined;

  async function provision(client: ClientName, index: number) {
    const { d, noVm, img, plan } = planFor(client, index);
    let r: ClientRun | undefined;
    if (client === "sushy") r = await runSushy(d, plan);
    else {
      ansibleRuns ??= runAnsible(
        lab.endpoints.dpus.map((dpu, i) => ({ dpu, plan: planFor("ansible", i).plan })),
      );
      r = (await ansibleRuns).get(d.name);
    }
    if (!r) throw new Error(`${client}: no result for ${d.name}`);
    expect(r.code, explain(client, r)).toBe(0);
    expect(r.report, explain(client, r)).toBeDefined();
    const report = r.report as Record<string, unknown>;
    // sushy nests what it saw under `observed`; the playbook's report is flat.
    const seen = (client === "sushy" ? report.observed : report) as Record<string, unknown>;
    const ctx = `${client} on ${d.profile}: ${JSON.stringify(report)}`;
    if (process.env.ORACLE_PRINT) console.log(ctx);
    const s = await settled(index);
    // The simulator's own state: the DPU runs exactly the image this client provisioned.
    expect(s.installedImage?.sha256, `image on the DPU; ${ctx}`).toBe(img.sha256);
    expect(s.powerState).toBe("On");
    expect(s.media.inserted, `media after eject; ${ctx}`).toBe(false);
    expect(s.override.enabled, `boot override consumed; ${ctx}`).toBe("Disabled");
    expect(seen.powerAfter, ctx).toBe("On");
    if (noVm) {
      // No virtual media anywhere, and the client agrees.
      expect(seen.virtualMediaSlots, ctx).toEqual([]);
    } else {
      expect((seen.virtualMediaSlots as unknown[]).length, ctx).toBeGreaterThan(0);
      expect(seen.insertedAfterEject, ctx).toEqual(client === "sushy" ? false : []);
    }
    return report;
  }

  it.each(BMC_PROFILES.map((profile, index) => ({ profile, index })))(
    "sushy provisions $profile",
    async ({ profile, index }) => {
      expect(lab.endpoints.dpus[index]?.profile).toBe(profile);
      await provision("sushy", index);
    },
    120_000,
  );

  it.each(BMC_PROFILES.map((profile, index) => ({ profile, index })))(
    "Ansible community.general provisions $profile",
    async ({ profile, index }) => {
      expect(lab.endpoints.dpus[index]?.profile).toBe(profile);
      await provision("ansible", index);
    },
    300_000,
  );
});
