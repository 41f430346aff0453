/**
 * Peers side by side, in one run (`npm run bench -- --only peers`): the same provisioning (insert the ISO, boot
 * once from CD, restart, wait, eject) of N DPUs at once on the same simulated BMC profile (generic, light lab,
 * boot time 0), by
 * - Ansible's community.general redfish modules (bench/peers/ansible-provision.yml, one playbook run, forks N);
 * - Ironic's Redfish library sushy (bench/peers/sushy-provision.py, one process, a thread per DPU);
 * - `dpuHost.create` through the real dynamic-provider host (spawned, Configure, Check + Create per DPU over
 *   gRPC, as the engine does; no SSH probe and no image verification, which the others do not do either);
 * - the floor (bench/peers/floor.ts: the same requests back to back with one HTTP client in one Node process).
 * Every tool's time starts at its process spawn. Requests are counted by the BMCs (server side, see
 * request-log.ts). The provider waits for an observed boot (BootProgress OSRunning) where the others stop at
 * PowerState On: the time from the reset to the eject, seen at the BMC, is reported per tool, and the
 * provider's extra wait is that time minus the floor's.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import { type LightLab, startLightLab } from "../simulator";
import { repoRoot } from "./host-overhead";
import { hostInputs, labImage } from "./lab";
import { serializedShims, startBenchHost } from "./plugin-host";
import { portOf, type RequestLog, splitAtReset, startRequestLog } from "./request-log";
import { type LoadWindow, type Spread, sampleLoad, spread } from "./stats";

/** The tools compared. */
export const PEER_TOOLS = ["ansible", "sushy", "pulumi-dpu", "floor"] as const;
/** One tool. */
export type PeerTool = (typeof PEER_TOOLS)[number];

/** Targets of the comparison (issue 15). */
export const PEER_TARGETS = {
  /** pulumi-dpu at least this many times faster than Ansible at N = 10. */
  fasterThanAnsibleAt10: 10,
  /** pulumi-dpu within this ratio of the floor at N = 10. */
  floorRatioAt10: 1.2,
  /** pulumi-dpu within this ratio of the floor at N = 1. */
  floorRatioAt1: 2,
} as const;

/** One tool at one N, over the rounds. */
export interface PeerRow {
  readonly tool: PeerTool;
  readonly n: number;
  /** Wall time from spawn to the last DPU done, s. */
  readonly wallS: Spread;
  /** Requests per BMC (BMC-counted), median over DPUs and rounds. */
  readonly requestsPerBmc: Spread;
  /** Requests per BMC up to and including the reset. */
  readonly beforeBootWait: Spread;
  /** Reset → eject at the BMC, s (the wait after the reset). */
  readonly resetToEjectS: Spread;
  /** Median gap between polls after the reset, ms (undefined when the tool did not poll). */
  readonly pollGapMs: Spread;
  readonly failures: number;
  readonly failureSamples: readonly string[];
}

/** What the peer benchmark measured. */
export interface PeersResult {
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly pollMs: number;
  readonly rows: readonly PeerRow[];
  readonly load: LoadWindow;
}

const ANSIBLE = "/usr/bin/ansible-playbook";
const PYTHON = "/usr/bin/python3";
const IMAGES = ["dpu-os-1.1.iso", "dpu-os-2.0.iso"] as const;

function runProcess(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

/** Runs one tool on DPUs [0, n) installing `image`; resolves with the failures it reported. */
async function runTool(
  tool: PeerTool,
  lab: LightLab,
  n: number,
  image: string,
  pollMs: number,
  work: string,
  shim: string,
): Promise<string[]> {
  const ep = lab.endpoints;
  const dpus = ep.dpus.slice(0, n);
  const url = labImage(ep, image).url;
  const creds: Record<string, string> = {};
  dpus.forEach((d, i) => {
    creds[`REDFISH_USERNAME_${i}`] = d.bmc.username;
    creds[`REDFISH_PASSWORD_${i}`] = d.bmc.password;
  });
  const baseEnv = {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: process.env.HOME ?? "/root",
    LANG: "C.UTF-8",
  };
  const scrub = (s: string) => dpus.reduce((t, d) => t.split(d.bmc.password).join("***"), s).slice(-1500);
  if (tool === "pulumi-dpu") {
    const host = await startBenchHost(repoRoot());
    try {
      const failures: string[] = [];
      await Promise.all(
        dpus.map(async (_, i) => {
          const t = {
            urn: `urn:pulumi:bench::bench::pulumi-nodejs:dynamic:Resource::h${i}`,
            type: "pulumi-nodejs:dynamic:Resource",
            name: `h${i}`,
          };
          try {
            const news = {
              ...(hostInputs(ep, i, image, { ssh: false, verify: false }) as unknown as Record<
                string,
                never
              >),
              __provider: shim,
            };
            const checked = await host.client.check(t, {}, news);
            await host.client.create(t, checked.inputs);
          } catch (e) {
            failures.push(`DPU ${i}: ${scrub(e instanceof Error ? e.message : String(e))}`);
          }
        }),
      );
      return failures;
    } finally {
      await host.close();
    }
  }
  if (tool === "ansible") {
    const hosts: Record<string, Record<string, string>> = {};
    dpus.forEach((d, i) => {
      hosts[`dpu${i}`] = {
        ansible_connection: "local",
        ansible_python_interpreter: PYTHON,
        baseuri: new URL(d.bmc.url).host,
        system_id: d.bmc.systemId,
        image: url,
        cred_key: String(i),
      };
    });
    const inventory = join(work, "inventory.json");
    writeFileSync(inventory, JSON.stringify({ all: { hosts } }), { mode: 0o600 });
    const r = await runProcess(
      ANSIBLE,
      ["-i", inventory, "--forks", String(n), join(repoRoot(), "bench", "peers", "ansible-provision.yml")],
      {
        ...baseEnv,
        ...creds,
        ANSIBLE_LOCAL_TEMP: join(work, "tmp"),
        ANSIBLE_PIPELINING: "1",
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
        ANSIBLE_DEPRECATION_WARNINGS: "0",
      },
      600_000,
    );
    return r.code === 0 ? [] : [`ansible-playbook exited ${r.code}: ${scrub(r.out)}`];
  }
  const config = join(work, "peer.json");
  writeFileSync(
    config,
    JSON.stringify({
      pollMs,
      dpus: dpus.map((d) => ({
        url: d.bmc.url,
        caFile: d.bmc.caCertFile,
        systemId: d.bmc.systemId,
        image: url,
      })),
    }),
    { mode: 0o600 },
  );
  const [cmd, args] =
    tool === "sushy"
      ? [PYTHON, [join(repoRoot(), "bench", "peers", "sushy-provision.py")]]
      : [process.execPath, [join(__dirname, "peers", "floor.js")]];
  const r = await runProcess(cmd, args, { ...baseEnv, ...creds, PEER_CONFIG: config }, 600_000);
  return r.code === 0 ? [] : [`${tool} exited ${r.code}: ${scrub(r.out)}`];
}

/** Waits until DPUs [0, n) run their OS with the media ejected (the next tool starts from a settled DPU). */
async function settle(lab: LightLab, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const dpus = [...lab.dpus.values()].slice(0, n);
  while (Date.now() < deadline) {
    if (
      dpus.every((d) => {
        const s = d.bmc.snapshot();
        return s.powerState === "On" && s.bootProgress.lastState === "OSRunning";
      })
    )
      return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the lab's DPUs did not settle within 60 s after a peer run");
}

/** Options of {@link benchPeers}. */
export interface PeersOptions {
  readonly sizes?: readonly number[];
  /** Runs per tool and size. Default 3. */
  readonly rounds?: number;
  /** Poll interval of the floor and sushy after the reset, ms (Ansible polls in whole seconds). Default 300. */
  readonly pollMs?: number;
  readonly tools?: readonly PeerTool[];
  readonly onProgress?: (m: string) => void;
}

/** Runs the peer comparison. */
export async function benchPeers(o: PeersOptions = {}): Promise<PeersResult> {
  const sizes = o.sizes ?? [1, 10];
  const rounds = o.rounds ?? 3;
  const pollMs = o.pollMs ?? 300;
  const tools = o.tools ?? PEER_TOOLS;
  const say = o.onProgress ?? (() => {});
  const before = sampleLoad();
  const restore = setLogSink(() => undefined);
  const lab = await startLightLab({ count: Math.max(...sizes), groupSize: 10, profile: "generic" });
  const log: RequestLog = startRequestLog();
  const work = mkdtempSync(join(tmpdir(), "dpu-bench-peers-"));
  const shim = (await serializedShims()).host;
  const raw = new Map<
    string,
    { wall: number[]; req: number[]; pre: number[]; wait: number[]; gap: number[] }
  >();
  const failures = new Map<string, string[]>();
  let imageTurn = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const n of sizes) {
        for (const tool of tools) {
          const key = `${tool}:${n}`;
          const image = IMAGES[imageTurn++ % IMAGES.length]!;
          const t0 = performance.now();
          const f = await runTool(tool, lab, n, image, pollMs, work, shim);
          const t1 = performance.now();
          const r = raw.get(key) ?? { wall: [], req: [], pre: [], wait: [], gap: [] };
          r.wall.push((t1 - t0) / 1000);
          for (const d of lab.endpoints.dpus.slice(0, n)) {
            const s = splitAtReset(log.forPort(portOf(d.bmc.url), t0, t1));
            r.req.push(s.total);
            r.pre.push(s.beforeBootWait);
            if (s.resetAt !== undefined && s.ejectAt !== undefined)
              r.wait.push((s.ejectAt - s.resetAt) / 1000);
            if (s.pollGapMs !== undefined) r.gap.push(s.pollGapMs);
          }
          raw.set(key, r);
          if (f.length > 0) failures.set(key, [...(failures.get(key) ?? []), ...f]);
          say(
            `peers: ${tool} N=${n} round ${round + 1}: ${((t1 - t0) / 1000).toFixed(2)} s${f.length ? ` (${f.length} failed)` : ""}`,
          );
          await settle(lab, n);
        }
      }
    }
  } finally {
    log.stop();
    restore();
    await closeAllPools();
    await lab.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const rows: PeerRow[] = [];
  for (const n of sizes) {
    for (const tool of tools) {
      const r = raw.get(`${tool}:${n}`)!;
      const f = failures.get(`${tool}:${n}`) ?? [];
      rows.push({
        tool,
        n,
        wallS: spread(r.wall),
        requestsPerBmc: spread(r.req),
        beforeBootWait: spread(r.pre),
        resetToEjectS: spread(r.wait),
        pollGapMs: spread(r.gap),
        failures: f.length,
        failureSamples: f.slice(0, 3),
      });
    }
  }
  return { sizes, rounds, pollMs, rows, load: { before, after: sampleLoad() } };
}
