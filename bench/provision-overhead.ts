/**
 * Provisioning overhead: DpuHost.create on a generic-profile simulated DPU with boot time 0, against the floor —
 * the minimal request sequence a client must send (discover, log in, insert, boot once, reset, see the OS
 * running, verify it over SSH, eject, log out), replayed back to back with the same HTTP client, each request
 * timed, the boot wait polled at the provider's own poll interval (measured at the BMC in the same round). Both
 * are counted by the BMC (request-log.ts). Median and min–max over the rounds; the ratio of the medians is the
 * provider's overhead (target ≤ 1.2).
 */
import { readFileSync } from "node:fs";
import { setLogSink } from "../provider/log";
import { closeAllPools, RedfishClient } from "../provider/redfish";
import { checkImage } from "../provider/redfish/image-check";
import { dpuHost } from "../provider/resources/dpu-host";
import { createSshConnector, sshPool, toSshTarget } from "../provider/ssh";
import { SshConnectionSchema } from "../provider/ssh/connection-schema";
import { type Lab, startLab } from "../simulator";
import { connectionOf, hostInputs, labImage } from "./lab";
import { portOf, splitAtReset, startRequestLog } from "./request-log";
import { spread } from "./stats";

/** The floor's poll interval when the provider was not seen polling (its first poll saw the OS running). */
const PROVIDER_POLL_FALLBACK_MS = 300;

/** One timed step of the floor replay. */
export interface FloorStep {
  readonly step: string;
  readonly ms: number;
}

/** What the provisioning benchmark measured. */
export interface ProvisionOverheadResult {
  /** Wall time of DpuHost.create (reflash with a new image), median of the runs, ms. */
  readonly providerMs: number;
  /** Redfish requests DpuHost sent (as the BMC counted them). */
  readonly providerRequests: number;
  /** Wall time of the minimal replay, median of the runs, ms. */
  readonly floorMs: number;
  /** Requests of the minimal replay, counted by the BMC like the provider's (polls included). */
  readonly floorRequests: number;
  /** Median latency of one Redfish request on this lab (warm GET), ms. */
  readonly perRequestMs: number;
  /** The provider's poll interval after the reset, measured at the BMC (median gap), ms. */
  readonly pollMs: number;
  /** Every provider and floor run. */
  readonly providerRunsMs: readonly number[];
  readonly floorRunsMs: readonly number[];
  /** providerMs / floorMs. */
  readonly ratio: number;
  /** Steps of the median floor run. */
  readonly floorSteps: readonly FloorStep[];
}

type Body = Record<string, unknown>;
const idOf = (v: unknown): string => ((v ?? {}) as { "@odata.id"?: string })["@odata.id"] ?? "";
const firstMember = (b: Body): string => idOf((b.Members as unknown[] | undefined)?.[0]);

/**
 * The floor: the minimal provisioning sequence for a generic BMC (virtual media under the manager), timed.
 */
async function replayFloor(lab: Lab, index: number, imageName: string, pollMs: number): Promise<FloorStep[]> {
  const ep = lab.endpoints;
  const d = ep.dpus[index]!;
  const img = labImage(ep, imageName);
  const steps: FloorStep[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const v = await fn();
    steps.push({ step, ms: performance.now() - t });
    return v;
  };
  await timed("verify image (download + sha256)", () =>
    checkImage(img.url, { measure: true, sha256: img.sha256, timeoutMs: 60_000 }),
  );
  const c = new RedfishClient({
    endpoint: d.bmc.url,
    username: d.bmc.username,
    password: d.bmc.password,
    caCert: readFileSync(d.bmc.caCertFile, "utf8"),
    auth: "session",
    retryBaseDelayMs: 50,
  });
  const a = { action: "floor" };
  try {
    const root = (await timed("GET service root", () => c.get("/redfish/v1", { ...a, noAuth: true }))).body;
    const systems = (await timed("POST session + GET Systems", () => c.get(idOf(root.Systems), a))).body;
    const sysPath = firstMember(systems);
    await timed("GET system", () => c.get(sysPath, a));
    const managers = (await timed("GET Managers", () => c.get(idOf(root.Managers), a))).body;
    const mgr = (await timed("GET manager", () => c.get(firstMember(managers), a))).body;
    const vms = (await timed("GET VirtualMedia", () => c.get(idOf(mgr.VirtualMedia), a))).body;
    const slotPath = firstMember(vms);
    const slot = (await timed("GET slot", () => c.get(slotPath, a))).body;
    const actions = slot.Actions as Record<string, { target: string }>;
    await timed("POST InsertMedia", () =>
      c.post(actions["#VirtualMedia.InsertMedia"]!.target, { Image: img.url, Inserted: true }, a),
    );
    await timed("PATCH boot once Cd", () =>
      c.patch(sysPath, { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } }, a),
    );
    await timed("POST Reset", () =>
      c.post(`${sysPath}/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" }, a),
    );
    await timed(
      `wait: GET system until OSRunning (${Math.round(pollMs)} ms polls, the provider's)`,
      async () => {
        for (;;) {
          const s = (await c.get(sysPath, a)).body as {
            PowerState?: string;
            BootProgress?: { LastState?: string };
          };
          if (s.PowerState === "On" && s.BootProgress?.LastState === "OSRunning") return;
          await new Promise((r) => setTimeout(r, pollMs));
        }
      },
    );
    const conn = createSshConnector();
    try {
      const target = toSshTarget(
        SshConnectionSchema.parse({ ...connectionOf(d), hostKey: undefined, dialAttempts: 20 }),
      );
      await timed("SSH dial + cat /etc/os-release", async () => {
        const s = await conn.session(target);
        await s.run(["cat", "/etc/os-release"]);
      });
    } finally {
      await conn.closeAll();
    }
    await timed("POST EjectMedia", () => c.post(actions["#VirtualMedia.EjectMedia"]!.target, {}, a));
    await timed("DELETE session", () => c.close());
  } finally {
    await c.close();
  }
  return steps;
}

/** Runs the benchmark on a fresh one-DPU lab (boot time 0), `rounds` provider and floor runs each. */
export async function benchProvisionOverhead(rounds = 5): Promise<ProvisionOverheadResult> {
  const restore = setLogSink(() => undefined);
  const lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 0 });
  try {
    const ep = lab.endpoints;
    const bmc = [...lab.dpus.values()][0]!.bmc;
    // Per-request latency: warm GETs of the system with the provider's client.
    const d = ep.dpus[0]!;
    const c = new RedfishClient({
      endpoint: d.bmc.url,
      username: d.bmc.username,
      password: d.bmc.password,
      caCert: readFileSync(d.bmc.caCertFile, "utf8"),
      auth: "basic",
    });
    const lat: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await c.get(`/redfish/v1/Systems/${d.bmc.systemId}`, { action: "latency" });
      lat.push(performance.now() - t);
    }
    lat.sort((x, y) => x - y);
    const perRequestMs = lat[Math.floor(lat.length / 2)]!;

    // Alternate floor and provider runs (each installs an image other than the running one), keep the fastest
    // of each: the lab's own jitter (namespace boot, sshd start) is not the provider's.
    // Alternate provider and floor runs (each installs an image other than the running one). The provider runs
    // first in each round; its poll interval, seen at the BMC, is the floor's in the same round.
    const floors: { steps: FloorStep[]; ms: number; requests: number }[] = [];
    const providers: { ms: number; requests: number }[] = [];
    const gaps: number[] = [];
    const log = startRequestLog();
    const port = portOf(d.bmc.url);
    try {
      for (let round = 0; round < rounds; round++) {
        const t = performance.now();
        await dpuHost.create!(hostInputs(ep, 0, "dpu-os-1.1.iso"));
        const t1 = performance.now();
        const split = splitAtReset(log.forPort(port, t, t1));
        providers.push({ ms: t1 - t, requests: split.total });
        if (split.pollGapMs !== undefined) gaps.push(split.pollGapMs);
        const pollMs = spread(gaps).median || PROVIDER_POLL_FALLBACK_MS;
        const steps = await replayFloor(lab, 0, "dpu-os-2.0.iso", pollMs);
        floors.push({
          steps,
          ms: steps.reduce((x, s) => x + s.ms, 0),
          requests: log.forPort(port, t1, performance.now()).length,
        });
      }
    } finally {
      log.stop();
    }
    void bmc;
    const providerMs = spread(providers.map((p) => p.ms)).median;
    const floorMs = spread(floors.map((f) => f.ms)).median;
    const medianFloor = [...floors].sort((a, b) => a.ms - b.ms)[Math.floor(floors.length / 2)]!;
    const floorSteps = medianFloor.steps;
    return {
      providerMs: Math.round(providerMs),
      providerRequests: spread(providers.map((p) => p.requests)).median,
      floorMs: Math.round(floorMs),
      floorRequests: spread(floors.map((f) => f.requests)).median,
      pollMs: Math.round(spread(gaps).median),
      providerRunsMs: providers.map((p) => Math.round(p.ms)),
      floorRunsMs: floors.map((f) => Math.round(f.ms)),
      perRequestMs: Math.round(perRequestMs * 100) / 100,
      ratio: Math.round((providerMs / floorMs) * 100) / 100,
      floorSteps: floorSteps.map((s) => ({ step: s.step, ms: Math.round(s.ms * 10) / 10 })),
    };
  } finally {
    restore();
    await sshPool.closeAll();
    await closeAllPools();
    await lab.stop();
  }
}
