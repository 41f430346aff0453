import type { BmcProfileName, DpuOsBackend, SimBmc } from "../../contracts";

/** One DPU the dashboard watches (a `LabDpu` fits). */
export interface DashboardTarget {
  readonly name: string;
  readonly profile: BmcProfileName;
  readonly bmc: SimBmc;
  readonly backend: DpuOsBackend;
  readonly mgmtIp: string;
  /** Network namespace the DPU lives in (`pds<slot>-dpu<i>`; empty for a VM DPU). */
  readonly netns: string;
}

/** Overall state of one DPU, derived from its BMC and its OS. */
export type DpuStatus = "running" | "booting" | "failed" | "off";

/** One address of a link, as the kernel reports it. */
export interface AddressView {
  readonly family: "inet" | "inet6";
  /** `198.19.0.1/24` */
  readonly cidr: string;
  /** `global`, `link`, `host`… */
  readonly scope: string;
}

/** One link of the DPU other than `lo` and `oob_net0` (data ports, VLANs, bridges…). */
export interface LinkView {
  readonly name: string;
  /** `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`… */
  readonly operstate: string;
  readonly mtu: number;
  readonly mac?: string;
  /** Link kind from `ip -d` (`vlan`, `bridge`, `veth`…), when the kernel reports one. */
  readonly kind?: string;
  /** VLAN id, for VLAN links. */
  readonly vlanId?: number;
  /** Lower device (a VLAN's parent link); never set for veth links. */
  readonly parent?: string;
  readonly addresses: readonly AddressView[];
}

/** A process running on the DPU that is not part of its init, idle loop or sshd. */
export interface WorkloadView {
  /** Pid inside the DPU's pid namespace. */
  readonly pid: number;
  /** Command line, truncated. */
  readonly command: string;
  /** Start time, ms since the epoch (compare with {@link FleetSnapshot.generatedAt}). */
  readonly startedAt: number;
}

/** What the dashboard shows of one DPU. */
export interface DpuView {
  readonly name: string;
  readonly profile: BmcProfileName;
  readonly status: DpuStatus;
  readonly power: string;
  readonly bootProgress: { readonly lastState: string; readonly oemLastState?: string };
  readonly override: { readonly enabled: string; readonly target: string; readonly httpBootUri?: string };
  readonly media: { readonly inserted: boolean; readonly image?: string };
  readonly image?: { readonly label: string; readonly sha256: string; readonly kind: string };
  readonly lastBootError?: string;
  readonly sessions: number;
  /** Redfish requests served since the BMC started (all methods). */
  readonly requests: number;
  /** True while the DPU's OS runs. */
  readonly osRunning: boolean;
  /** `up` while the sshd listener lives, `down` when the OS runs without it, `off` when the OS is stopped. */
  readonly ssh: "up" | "down" | "off";
  readonly mgmtIp: string;
  /** The DPU's UTS hostname, while running. */
  readonly hostname?: string;
  readonly links: readonly LinkView[];
  readonly workloads: readonly WorkloadView[];
  /** Why part of the observation failed (the rest is still shown). */
  readonly observeError?: string;
}

/** Counts over the fleet. */
export interface FleetSummary {
  readonly total: number;
  readonly running: number;
  readonly booting: number;
  readonly failed: number;
  readonly off: number;
}

/** A snapshot of the whole fleet, as `GET /api/fleet` and every `GET /api/events` message carry it. */
export interface FleetSnapshot {
  /** When the observation ended, ms since the epoch. */
  readonly generatedAt: number;
  readonly summary: FleetSummary;
  readonly dpus: readonly DpuView[];
}
