import type { BmcSnapshot } from "../../contracts";
import { mapLimit } from "../../dpu/exec";
import type {
  DashboardTarget,
  DpuStatus,
  DpuView,
  FleetSnapshot,
  FleetSummary,
  LinkView,
} from "./fleet-types";
import { readHostname, readLinks } from "./kernel-view";
import { type DpuProcesses, scanDpuProcesses } from "./proc-scan";

/** Options of {@link FleetObserver}. */
export interface FleetObserverOptions {
  /** `ip` / `nsenter` commands in flight at once. Default 4. */
  readonly concurrency?: number;
  /** How long a DPU's hostname is reused before it is read again, ms. Default 5000. */
  readonly hostnameTtlMs?: number;
}

interface HostnameCache {
  readonly initPid: number;
  readonly at: number;
  readonly value: string;
}

const RUNNING_STATES = new Set(["OSRunning", "OsIsRunning"]);

/** Running, booting, failed or off, from what the BMC and the OS report. */
export function dpuStatus(bmc: BmcSnapshot, osRunning: boolean): DpuStatus {
  if (bmc.lastBootError) return "failed";
  if (bmc.powerState === "Off" || bmc.powerState === "PoweringOff") return "off";
  const progress = bmc.bootProgress.oemLastState ?? bmc.bootProgress.lastState;
  if (bmc.powerState === "On" && osRunning && RUNNING_STATES.has(progress)) return "running";
  return "booting";
}

/** Counts DPUs by status. */
export function summarize(dpus: readonly DpuView[]): FleetSummary {
  const count = (s: DpuStatus): number => dpus.filter((d) => d.status === s).length;
  return {
    total: dpus.length,
    running: count("running"),
    booting: count("booting"),
    failed: count("failed"),
    off: count("off"),
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Observes every DPU of a lab the way its hardware shows it: the BMC's snapshot, and for a running DPU its
 * links and addresses (`ip -n <netns> -d -j addr show`), its hostname (through its UTS namespace, cached) and
 * its processes (one /proc scan for the whole fleet). Observations run only when asked for; concurrent
 * requests share one observation.
 */
export class FleetObserver {
  private readonly targets: readonly DashboardTarget[];
  private readonly concurrency: number;
  private readonly hostnameTtlMs: number;
  private readonly hostnames = new Map<string, HostnameCache>();
  private inflight: Promise<FleetSnapshot> | undefined;
  private last: FleetSnapshot | undefined;
  private count = 0;

  constructor(targets: Iterable<DashboardTarget>, opts: FleetObserverOptions = {}) {
    this.targets = [...targets];
    this.concurrency = opts.concurrency ?? 4;
    this.hostnameTtlMs = opts.hostnameTtlMs ?? 5000;
  }

  /** Observations made so far. */
  get observations(): number {
    return this.count;
  }

  /**
   * A snapshot no older than `maxAgeMs` (0: a new observation, shared with any already under way).
   */
  observe(maxAgeMs = 0): Promise<FleetSnapshot> {
    if (this.inflight) return this.inflight;
    if (this.last && maxAgeMs > 0 && Date.now() - this.last.generatedAt <= maxAgeMs) {
      return Promise.resolve(this.last);
    }
    const run = this.observeNow().then(
      (snap) => {
        this.last = snap;
        this.inflight = undefined;
        return snap;
      },
      (e: unknown) => {
        this.inflight = undefined;
        throw e;
      },
    );
    this.inflight = run;
    return run;
  }

  private async hostname(t: DashboardTarget, initPid: number): Promise<string | undefined> {
    const cached = this.hostnames.get(t.name);
    if (cached && cached.initPid === initPid && Date.now() - cached.at < this.hostnameTtlMs)
      return cached.value;
    try {
      const value = await readHostname(initPid);
      this.hostnames.set(t.name, { initPid, at: Date.now(), value });
      return value;
    } catch {
      return cached?.initPid === initPid ? cached.value : undefined;
    }
  }

  private async observeNow(): Promise<FleetSnapshot> {
    this.count++;
    const running = this.targets.filter((t) => t.backend.running());
    const procs = scanDpuProcesses(running.map((t) => t.netns));
    const views = await mapLimit(this.targets, this.concurrency, async (t): Promise<DpuView> => {
      const bmc = t.bmc.snapshot();
      const osRunning = t.backend.running();
      const p: DpuProcesses | undefined = osRunning ? procs.get(t.netns) : undefined;
      let links: LinkView[] = [];
      let hostname: string | undefined;
      let observeError: string | undefined;
      if (osRunning) {
        try {
          links = await readLinks(t.netns);
        } catch (e) {
          observeError = `links: ${message(e)}`;
        }
        if (p?.initPid !== undefined) hostname = await this.hostname(t, p.initPid);
      }
      const image = bmc.installedImage;
      const requests = Object.values(bmc.requests).reduce((a, b) => a + b, 0);
      return {
        name: t.name,
        profile: t.profile,
        status: dpuStatus(bmc, osRunning),
        power: bmc.powerState,
        bootProgress: bmc.bootProgress,
        override: bmc.override,
        media: bmc.media,
        ...(image ? { image: { label: image.label, sha256: image.sha256, kind: image.kind } } : {}),
        ...(bmc.lastBootError ? { lastBootError: bmc.lastBootError } : {}),
        sessions: bmc.activeSessions,
        requests,
        osRunning,
        ssh: !osRunning ? "off" : p?.sshdListening ? "up" : "down",
        mgmtIp: t.mgmtIp,
        ...(hostname ? { hostname } : {}),
        links,
        workloads: p?.workloads ?? [],
        ...(observeError ? { observeError } : {}),
      };
    });
    return { generatedAt: Date.now(), summary: summarize(views), dpus: views };
  }
}
