/**
 * Independent clients against the simulator: Ironic's Redfish library (sushy) and Ansible's community.general
 * redfish modules run their own provisioning sequence on every BMC profile (hand-written, capture-backed and
 * quirk; one lab serves them all): insert an ISO, boot once from CD, reboot, wait for power On, eject; where
 * there is no virtual media, a SimpleUpdate of a bundle over HTTP then a reboot (bluefield, quirk-bluefield-new),
 * or, with no SimpleUpdate protocol the clients can use, a one-time override and a reboot (capture-bladed,
 * capture-bluefield, quirk-bluefield-old). Each run is then checked against the simulator's own state, not the
 * client's word: the DPU runs the image the client chose, the media is out, the power is On, the override was
 * spent (or kept, where the vendor keeps it). If a real client fails on a profile, the profile is suspect; where
 * the real vendor breaks that client version (its tracker says so), the test asserts that named failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_BMC_PROFILES, type BmcProfileName, type Lab, type LabDpu, startLab } from "../../simulator";
import { skipUnless } from "../capabilities";
import { skipLab, until } from "../sim-lab/helpers";
import { type ClientRun, type OracleDpu, type OraclePlan, runAnsible, runSushy } from "./run-clients";

const skip = skipLab() || skipUnless("independent-client tests", "redfish-clients");

/**
 * What each client provisions on a profile: an ISO through virtual media (`iso`), a bundle through SimpleUpdate
 * over HTTP (`bfb`: no virtual media), or only a one-time override and a restart (`restart`: no virtual media
 * and no SimpleUpdate protocol the clients can use). A `Record` over every profile name: a new profile does not
 * compile until it is placed here.
 */
const PLAN_KIND: Readonly<Record<BmcProfileName, "iso" | "bfb" | "restart">> = {
  generic: "iso",
  dell: "iso",
  bluefield: "bfb",
  "intel-ipu": "iso",
  "capture-rackmount1": "iso",
  "capture-smartnic": "iso",
  "capture-tower": "iso",
  "capture-bladed": "restart",
  "capture-bluefield": "restart",
  "quirk-idrac": "iso",
  "quirk-ilo": "iso",
  "quirk-supermicro": "iso",
  "quirk-xcc": "iso",
  "quirk-bluefield-old": "restart",
  "quirk-bluefield-new": "bfb",
  "quirk-emulator": "iso",
  "quirk-bare": "iso",
};
/** Every profile, hand-written, capture-backed and quirk: one lab serves them all. */
const PROFILES: readonly BmcProfileName[] = [...ALL_BMC_PROFILES];
/** Both clients run on every profile. */
const ANSIBLE_PROFILES: readonly BmcProfileName[] = PROFILES;
/**
 * Profiles whose BMC applies power changes late (quirk-emulator: 1-10 s). Right after a restart such a BMC still
 * shows the old On, so a client that restarts, waits for On and ejects has ejected before the reset. sushy's
 * run reboots as Ironic does everywhere (ForceOff, wait for Off, On); the playbook does the same on these hosts
 * (an OpenBMC power-off shows On for a while and hard reset is off, poll for Off, on: xcat2/xcat-core#4047,
 * openbmc/openbmc#2471).
 */
const LATE_POWER: ReadonlySet<BmcProfileName> = new Set(["quirk-emulator"]);
/**
 * Where the BMC keeps a boot override after the boot it was set for: sushy-tools' libvirt driver ignores
 * BootSourceOverrideEnabled and always sets the boot device Continuous (openstack/sushy-tools
 * sushy_tools/emulator/main.py system_resource PATCH: "In libvirt we always set the boot device frequency to
 * continuous"). Everywhere else a `Once` override is spent by the boot (Disabled).
 */
const OVERRIDE_AFTER: Readonly<Partial<Record<BmcProfileName, string>>> = { "quirk-emulator": "Continuous" };
/**
 * Failures of a client version on a profile whose vendor behaviour it does not handle, as the client's tracker
 * documents them. Supermicro never clears a slot's `ImageName` (not even when ejecting; only `ConnectedVia:
 * NotConnected` says the slot is empty), so community.general before the workaround of
 * ansible-collections/community.general#12537 (issue #6969; Debian ships 6.6.2) finds no empty CD slot.
 */
const KNOWN_FAILURES: Readonly<Record<ClientName, Partial<Record<BmcProfileName, RegExp>>>> = {
  sushy: {},
  ansible: {
    "quirk-supermicro":
      /^Insert the ISO: "Unable to find an available VirtualMedia resource supporting \['CD', 'DVD'\]"$/m,
  },
};
/** SimpleUpdate target of the bundle (the BlueField firmware inventory's OS item). */
const BFB_TARGET = "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS";
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
    // The emulator's late power changes at a fixed delay: long enough that a restart-then-eject client loses
    // the race (the reset lands after the eject), short enough to keep the run fast.
    add(
      await startLab({
        count: PROFILES.length,
        profile: PROFILES,
        bootTimeMs: 300,
        quirkTiming: { powerDelayMs: 1500 },
      }),
    );
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
    const kind = PLAN_KIND[t.profile];
    if (kind === "restart") {
      const plan: OraclePlan = { restartOnly: true };
      return { noVm: true, img: t.dpu.backend.installedImage(), plan };
    }
    const noVm = kind === "bfb";
    const name = noVm ? IMAGES[client].bfb : IMAGES[client].iso;
    const img = t.lab.endpoints.images.files.find((i) => i.name === name);
    if (!img) throw new Error(`lab has no image ${name}`);
    const plan: OraclePlan = noVm ? { bfb: img.url, bfbTarget: BFB_TARGET } : { image: img.url };
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
          powerOffOn: LATE_POWER.has(x.profile),
        })),
      );
      r = (await ansibleRuns).get(profile);
    }
    if (!r) throw new Error(`${client}: no result for ${profile}`);
    const known = KNOWN_FAILURES[client][profile];
    if (known) {
      // A real vendor behaviour this client version does not handle: the run fails at the named step, with the
      // named message, before it changed anything on the BMC.
      expect(r.code, explain(client, r)).not.toBe(0);
      expect(r.output).toMatch(known);
      const s = t.dpu.bmc.snapshot();
      expect(s.media.inserted, `no media after the failed run; ${r.output}`).toBe(false);
      return undefined;
    }
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
    expect(s.override.enabled, `boot override after the boot; ${ctx}`).toBe(
      OVERRIDE_AFTER[profile] ?? "Disabled",
    );
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
    // The first test waits for the one playbook run over every host (each task a Python start per host): a
    // bound for a loaded 2-core CI machine, not an expectation.
    600_000,
  );
});
