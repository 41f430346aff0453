/**
 * Independent clients against the simulator: Ironic's Redfish library (sushy) and Ansible's community.general
 * redfish modules run their own provisioning sequence on every BMC profile: insert an ISO, boot once from CD,
 * restart, wait for power On, eject; on the BlueField-like profile (no virtual media) a SimpleUpdate of a
 * bundle, then a restart; on capture-bladed and capture-bluefield (no virtual media, no SimpleUpdate the clients
 * can use) a one-time override and a restart. Each run is then checked against the simulator's own state, not
 * the client's word: the DPU runs the image the client chose, the media is out, the power is On, the override
 * was spent. If a real client fails on a profile, the profile is suspect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BMC_PROFILES, type BmcProfileName, type Lab, type LabDpu, startLab } from "../../simulator";
import { skipUnless } from "../capabilities";
import { skipLab, until } from "../sim-lab/helpers";
import { type ClientRun, type OracleDpu, type OraclePlan, runAnsible, runSushy } from "./run-clients";

const skip = skipLab() || skipUnless("independent-client tests", "redfish-clients");

/** Capture-backed profiles with virtual media (captured slots: PATCH-only, CD1 holding the captured image). */
const CAPTURE_VM_PROFILES = ["capture-rackmount1", "capture-tower", "capture-smartnic"] as const;
/** Capture-backed profiles without virtual media or a SimpleUpdate the clients can use: override + restart. */
const CAPTURE_RESTART_PROFILES = ["capture-bladed", "capture-bluefield"] as const;
/** Every profile under test: the four hand-written ones (one `mixed` lab), then one lab per capture profile. */
const PROFILES: readonly BmcProfileName[] = [
  ...BMC_PROFILES,
  ...CAPTURE_VM_PROFILES,
  ...CAPTURE_RESTART_PROFILES,
];
/** Profiles where the clients only set a one-time override and restart (the DPU keeps its OS). */
const RESTART_ONLY: ReadonlySet<BmcProfileName> = new Set(CAPTURE_RESTART_PROFILES);
/**
 * Profiles the Ansible run covers (every module run is a Python start, so each host costs CPU): the four
 * hand-written ones and one capture of each media shape (system slots: rackmount1; manager slots: tower).
 * sushy covers every profile.
 */
const ANSIBLE_PROFILES: readonly BmcProfileName[] = [...BMC_PROFILES, "capture-rackmount1", "capture-tower"];
/** The profile without virtual media; everything else takes an ISO. */
const NO_VIRTUAL_MEDIA: ReadonlySet<BmcProfileName> = new Set(["bluefield"]);
/** Which image each client provisions, so the DPU's disk tells which client's run it saw. */
const IMAGES = {
  sushy: { iso: "dpu-os-1.1.iso", bfb: "bf-bundle-4.9.bfb" },
  ansible: { iso: "dpu-os-2.0.iso", bfb: "bf-bundle-4.10.bfb" },
} as const;
type ClientName = keyof typeof IMAGES;

/** One BMC under test. */
interface Target {
  readonly profile: BmcProfileName;
  readonly lab: Lab;
  readonly endpoint: OracleDpu;
  readonly dpu: LabDpu;
}

describe.skipIf(skip)("independent clients (sushy, Ansible community.general) on every profile", () => {
  const labs: Lab[] = [];
  const targets = new Map<BmcProfileName, Target>();
  beforeAll(async () => {
    const add = (lab: Lab) => {
      labs.push(lab);
      for (const endpoint of lab.endpoints.dpus) {
        const dpu = lab.dpus.get(endpoint.name);
        if (!dpu) throw new Error(`no DPU ${endpoint.name}`);
        targets.set(endpoint.profile, { profile: endpoint.profile, lab, endpoint, dpu });
      }
    };
    add(await startLab({ count: BMC_PROFILES.length, profile: "mixed", bootTimeMs: 300 }));
    for (const profile of [...CAPTURE_VM_PROFILES, ...CAPTURE_RESTART_PROFILES])
      add(await startLab({ count: 1, profile, bootTimeMs: 300 }));
  }, 180_000);
  afterAll(async () => {
    for (const lab of labs) await lab.stop();
  });

  function target(profile: BmcProfileName): Target {
    const t = targets.get(profile);
    if (!t) throw new Error(`no lab DPU with profile ${profile}`);
    return t;
  }

  /** Waits until the simulated DPU runs an OS again after a client's run, and returns the BMC's view. */
  function settled(t: Target) {
    return until(
      `${t.endpoint.name} (${t.profile}) to run its OS`,
      async () => {
        const s = t.dpu.bmc.snapshot();
        const running =
          s.bootProgress.lastState === "OSRunning" || s.bootProgress.oemLastState === "OsIsRunning";
        return s.powerState === "On" && running && t.dpu.backend.running() ? s : undefined;
      },
      30_000,
    );
  }

  function explain(client: ClientName, r: ClientRun): string {
    return `${client} run failed (exit ${r.code}):\n${r.output}`;
  }

  function planFor(client: ClientName, t: Target) {
    if (RESTART_ONLY.has(t.profile)) {
      const plan: OraclePlan = { restartOnly: true };
      return { noVm: true, img: t.dpu.backend.installedImage(), plan };
    }
    const noVm = NO_VIRTUAL_MEDIA.has(t.profile);
    const name = noVm ? IMAGES[client].bfb : IMAGES[client].iso;
    const img = t.lab.endpoints.images.files.find((i) => i.name === name);
    if (!img) throw new Error(`lab has no image ${name}`);
    const plan: OraclePlan = noVm
      ? { bfb: img.url, bfbTarget: "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS" }
      : { image: img.url };
    return { noVm, img, plan };
  }

  /** One ansible-playbook run for every BMC, started by the first Ansible test (after every sushy test). */
  let ansibleRuns: Promise<Map<string, ClientRun>> | undefined;

  async function provision(client: ClientName, profile: BmcProfileName) {
    const t = target(profile);
    expect(t.endpoint.profile).toBe(profile);
    const { noVm, img, plan } = planFor(client, t);
    let r: ClientRun | undefined;
    if (client === "sushy") r = await runSushy(t.endpoint, plan);
    else {
      ansibleRuns ??= runAnsible(
        ANSIBLE_PROFILES.map(target).map((x) => ({
          key: x.profile,
          dpu: x.endpoint,
          plan: planFor("ansible", x).plan,
        })),
      );
      r = (await ansibleRuns).get(profile);
    }
    if (!r) throw new Error(`${client}: no result for ${profile}`);
    expect(r.code, explain(client, r)).toBe(0);
    expect(r.report, explain(client, r)).toBeDefined();
    const report = r.report as Record<string, unknown>;
    // sushy nests what it saw under `observed`; the playbook's report is flat.
    const seen = (client === "sushy" ? report.observed : report) as Record<string, unknown>;
    const ctx = `${client} on ${profile}: ${JSON.stringify(report)}`;
    if (process.env.ORACLE_PRINT) console.log(ctx);
    const s = await settled(t);
    // The simulator's own state: the DPU runs exactly the image this client provisioned.
    // (or, restart only, the image it had before).
    expect(img, ctx).toBeDefined();
    expect(s.installedImage?.sha256, `image on the DPU; ${ctx}`).toBe(img?.sha256);
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

  it.each([...PROFILES])(
    "sushy provisions %s",
    async (profile) => {
      await provision("sushy", profile);
    },
    120_000,
  );

  it.each([...ANSIBLE_PROFILES])(
    "Ansible community.general provisions %s",
    async (profile) => {
      await provision("ansible", profile);
    },
    300_000,
  );
});
