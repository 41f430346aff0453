/**
 * Markdown of the peer comparison, the refresh through the real plugin host, the K-stack run and the
 * 100,000-DPU projection (docs/scale-out.md). Every figure and every ✅/❌ comes from the result passed in.
 */
import type { HostRefreshResult } from "./host-refresh";
import { PEER_TARGETS, type PeerRow, type PeersResult } from "./peers";
import { OPENSSH_RATIO_TARGET, type SshVsOpensshResult } from "./ssh-vs-openssh";
import { fmtSpread, loadLine, mark, rnd, type Spread, verdict } from "./stats";

/** Targets of the refresh through the host (issue 15). */
export const REFRESH_TARGETS = {
  /** Host CPU per warm read, ms. */
  hostCpuPerReadMs: 1,
  /** Host peak RSS at 1,000 DPUs, MiB. */
  peakRssMiBAt1000: 150,
} as const;

const opt = (s: Spread, unit: string, digits = 2) => (s.n === 0 ? "–" : fmtSpread(s, unit, digits));

/** Markdown of the peer table. */
export function peersMarkdown(r: PeersResult): string {
  const row = (tool: string, n: number): PeerRow | undefined =>
    r.rows.find((x) => x.tool === tool && x.n === n);
  const lines = [
    `Median (min–max) of ${r.rounds} runs per cell. Time: spawn of the tool's process → last DPU done. Requests: counted by each BMC, per DPU. "Reset → eject": at the BMC, the wait after the reset (the provider waits for BootProgress OSRunning, the others for PowerState On).`,
    "",
    "| N | tool | time | requests / BMC | of which before the boot wait | reset → eject (BMC) | poll gap after reset | vs floor | pulumi-dpu faster by | failures |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const n of r.sizes) {
    const floor = row("floor", n);
    const dpu = row("pulumi-dpu", n);
    for (const x of r.rows.filter((y) => y.n === n)) {
      const vsFloor = floor && floor.wallS.median > 0 ? `${rnd(x.wallS.median / floor.wallS.median)}×` : "–";
      const speedup =
        dpu && x.tool !== "pulumi-dpu" && dpu.wallS.median > 0
          ? `${rnd(x.wallS.median / dpu.wallS.median)}×`
          : "–";
      lines.push(
        `| ${n} | ${x.tool} | ${fmtSpread(x.wallS, "s")} | ${fmtSpread(x.requestsPerBmc, "", 0)} | ${fmtSpread(x.beforeBootWait, "", 0)} | ${opt(x.resetToEjectS, "s")} | ${opt(x.pollGapMs, "ms", 0)} | ${vsFloor} | ${speedup} | ${x.failures} |`,
      );
    }
  }
  const extra = (n: number) => {
    const d = row("pulumi-dpu", n);
    const f = row("floor", n);
    return d && f && d.resetToEjectS.n > 0 && f.resetToEjectS.n > 0
      ? `${rnd(d.resetToEjectS.median - f.resetToEjectS.median)} s`
      : "–";
  };
  lines.push("", "| target | measured | |", "| --- | ---: | :---: |");
  const ratio = (a?: PeerRow, b?: PeerRow) =>
    a && b && b.wallS.median > 0 ? a.wallS.median / b.wallS.median : NaN;
  const t10 = ratio(row("ansible", 10), row("pulumi-dpu", 10));
  const f10 = ratio(row("pulumi-dpu", 10), row("floor", 10));
  const f1 = ratio(row("pulumi-dpu", 1), row("floor", 1));
  const cell = (v: number, ok: boolean) => (Number.isNaN(v) ? "not run | –" : `${rnd(v)}× | ${verdict(ok)}`);
  lines.push(
    `| pulumi-dpu ≥ ${PEER_TARGETS.fasterThanAnsibleAt10}× faster than Ansible at N = 10 | ${cell(t10, t10 >= PEER_TARGETS.fasterThanAnsibleAt10)} |`,
    `| pulumi-dpu ≤ ${PEER_TARGETS.floorRatioAt10}× the floor at N = 10 | ${cell(f10, f10 <= PEER_TARGETS.floorRatioAt10)} |`,
    `| pulumi-dpu ≤ ${PEER_TARGETS.floorRatioAt1}× the floor at N = 1 | ${cell(f1, f1 <= PEER_TARGETS.floorRatioAt1)} |`,
    "",
    `The provider's extra wait for an observed boot (its reset → eject minus the floor's, medians): ${r.sizes.map((n) => `N = ${n}: ${extra(n)}`).join(", ")}. The floor and sushy poll every ${r.pollMs} ms after the reset; Ansible's \`until\`/\`delay\` polls in whole seconds; each tool's measured poll gap is in the table ("–": the first poll already saw the DPU on).`,
    "",
    loadLine(r.load),
  );
  return lines.join("\n");
}

/** Markdown of the refresh through the real plugin host (one stack per row). */
export function hostRefreshMarkdown(rows: readonly HostRefreshResult[]): string {
  const lines = [
    "Each row: one fleet on the lightweight lab, refreshed through the real `pulumi-resource-pulumi-nodejs` host over gRPC (Read of every resource, 64 in flight), one cold round then warm rounds; median (min–max) over the warm rounds. Columns are separate measurements, not derived from each other: host CPU is the host process's own (/proc), DPU CPU is the simulator's process tree (BMCs, sshd, read scripts), the driver is the engine's stand-in.",
    "",
    `| DPUs | reads / round | wall, warm (includes the DPU side) | wall, cold | host CPU, warm | host CPU per warm read (target ≤ ${REFRESH_TARGETS.hostCpuPerReadMs} ms) | simulated DPUs' CPU, warm | driver CPU, warm | host peak RSS | RSS target | Redfish req / DpuHost read | failures | drift |`,
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const perRead = r.summary.hostCpuPerReadMs.median;
    const rss = r.peakRssMiB[0] ?? 0;
    const failures = r.cold.failures + r.warm.reduce((a, w) => a + w.failures, 0);
    const rf = r.warm[r.warm.length - 1]?.redfishPerHostRead ?? 0;
    lines.push(
      `| ${r.dpus} | ${r.cold.reads} | ${fmtSpread(r.summary.wallS, "s")} | ${rnd(r.cold.wallS)} s | ${fmtSpread(r.summary.hostCpuS, "s")} | ${fmtSpread(r.summary.hostCpuPerReadMs, "ms")} ${mark(perRead <= REFRESH_TARGETS.hostCpuPerReadMs)} | ${fmtSpread(r.summary.dpuCpuS, "s")} | ${fmtSpread(r.summary.driverCpuS, "s")} | ${rss} MiB | ${r.dpus === 1000 ? `≤ ${REFRESH_TARGETS.peakRssMiBAt1000} MiB ${mark(rss <= REFRESH_TARGETS.peakRssMiBAt1000)}` : `– (target at 1,000)`} | ${rnd(rf)} | ${failures} ${mark(failures === 0)} | ${r.drifted} ${mark(r.drifted === 0)} |`,
    );
  }
  for (const r of rows) lines.push("", `N = ${r.dpus}: ${loadLine(r.load)}`);
  const prof = rows.find((r) => r.profile)?.profile;
  if (prof) {
    const r = rows.find((x) => x.profile)!;
    lines.push(
      "",
      `#### Where the host's time goes (CPU profile of the host at N = ${r.dpus}: the warm rounds and the drift check; ${prof.busyMs} ms sampled)`,
      "",
      "| package | self time | share |",
      "| --- | ---: | ---: |",
      ...prof.byPackage.map((p) => `| ${p.name} | ${p.selfMs} ms | ${p.pct} % |`),
      "",
      "| function (top self time) | self time | share |",
      "| --- | ---: | ---: |",
      ...prof.topFunctions.map(
        (p) => `| \`${p.name.replace(/\|/g, "\\|")}\` | ${p.selfMs} ms | ${p.pct} % |`,
      ),
    );
  }
  return lines.join("\n");
}

/** Markdown of K stacks refreshing in parallel. */
export function stacksMarkdown(rows: readonly HostRefreshResult[]): string {
  const lines = [
    "K stacks = K host processes, each refreshing its own slice of one fleet at the same time (64 reads in flight each). Warm rounds, median (min–max).",
    "",
    "| DPUs | stacks (K) | DPUs / stack | wall, warm | sum of host CPU, warm | host CPU per read | sum of host peak RSS | largest host RSS | simulated DPUs' CPU | failures | drift |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const failures = r.cold.failures + r.warm.reduce((a, w) => a + w.failures, 0);
    lines.push(
      `| ${r.dpus} | ${r.stacks} | ${Math.round(r.dpus / r.stacks)} | ${fmtSpread(r.summary.wallS, "s")} | ${fmtSpread(r.summary.hostCpuS, "s")} | ${fmtSpread(r.summary.hostCpuPerReadMs, "ms")} | ${r.peakRssMiB.reduce((a, b) => a + b, 0)} MiB | ${Math.max(...r.peakRssMiB)} MiB | ${fmtSpread(r.summary.dpuCpuS, "s")} | ${failures} | ${r.drifted} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The 100,000-DPU projection, computed from the measured stack runs (`rows`) and, for memory, every measured
 * (DPUs per host, peak RSS) point of this run (`more`: the single-stack refreshes).
 */
export function scaleOutMarkdown(
  rows: readonly HostRefreshResult[],
  more: readonly HostRefreshResult[] = [],
  fleet = 100_000,
  stackSize = 1_000,
): string {
  if (rows.length === 0) return "No stack run in this benchmark run.";
  const all = [...rows, ...more];
  // Host memory as a line through the measured (DPUs per host, RSS) points: RSS = base + slope × DPUs.
  const pts = all.flatMap((r) => r.peakRssMiB.map((rss) => ({ x: r.dpus / r.stacks, y: rss })));
  const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  const sxx = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const fitted = sxx > 0 ? pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx : 0;
  const maxX = Math.max(...pts.map((p) => p.x));
  const maxY = Math.max(...pts.map((p) => p.y));
  // A line that falls (noise between small fleets) says nothing about growth: use the largest measured RSS.
  const growth = fitted > 0;
  const rssStack = growth ? my + fitted * (stackSize - mx) : maxY;
  const memoryHow = growth
    ? `line through ${pts.length} measured (DPUs per host, peak RSS) points: ${rnd(my - fitted * mx, 0)} MiB + ${rnd(fitted, 3)} MiB × DPUs${stackSize > maxX ? `, extrapolated beyond the largest measured host (${maxX} DPUs)` : ""}`
    : `no growth with DPUs measured between the ${pts.length} points (largest host ${maxX} DPUs): the largest measured peak RSS`;
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
  const perReadMs = median(rows.map((r) => r.summary.hostCpuPerReadMs.median));
  const readsPerDpu = 3;
  const simPerReadMs = median(rows.map((r) => (1000 * r.summary.dpuCpuS.median) / Math.max(1, r.cold.reads)));
  const rfPerHostRead = median(rows.map((r) => r.warm[r.warm.length - 1]?.redfishPerHostRead ?? 0));
  const stacks = Math.ceil(fleet / stackSize);
  const cpuS = (fleet * readsPerDpu * perReadMs) / 1000;
  const measured = rows.map((r) => `${r.dpus} DPUs in ${r.stacks} stack(s)`).join(", ");
  const f = (v: number) => v.toLocaleString("en-US");
  return [
    `Computed by the benchmark from this run's stack measurements (${measured}); a projection, not a measurement at ${f(fleet)}.`,
    "",
    "| quantity | how it is computed | value |",
    "| --- | --- | ---: |",
    `| provider (host) CPU per warm read | median over the stack runs | ${rnd(perReadMs)} ms |`,
    `| host memory per stack | ${memoryHow} | ${rnd(rssStack, 0)} MiB at ${f(stackSize)} DPUs per stack |`,
    `| stacks | ${f(fleet)} / ${f(stackSize)} DPUs per stack | ${stacks} |`,
    `| provider CPU for one refresh of the fleet | ${f(fleet)} × ${readsPerDpu} reads × CPU per read | ${f(Math.round(cpuS))} CPU-s (${rnd(cpuS / 60, 1)} CPU-min) |`,
    `| cores to refresh it in 10 min (provider side only) | CPU ÷ 600 s | ${rnd(cpuS / 600, 1)} |`,
    `| host memory, all stacks at once | stacks × memory per stack | ${rnd((stacks * rssStack) / 1024, 1)} GiB |`,
    `| Redfish requests per refresh | ${f(fleet)} × ${rnd(rfPerHostRead)} per DpuHost read (measured) | ${f(Math.round(fleet * rfPerHostRead))} (${rnd(rfPerHostRead)} per BMC) |`,
    `| DPU-side CPU per read (simulated: sshd and the read script; on real hardware it runs on each DPU) | median over the stack runs | ${rnd(simPerReadMs)} ms |`,
  ].join("\n");
}

/** Markdown of warm SSH reads against OpenSSH with a ControlMaster. */
export function sshVsOpensshMarkdown(r: SshVsOpensshResult): string {
  const row = (name: string, x: SshVsOpensshResult["underlay"]) =>
    `| ${name} | ${fmtSpread(x.providerMs, "ms", 1)} | ${fmtSpread(x.opensshMs, "ms", 1)} | ${x.ratio} | ${verdict(x.ratio <= OPENSSH_RATIO_TARGET)} | ${x.roundTripsPerRead} |`;
  return [
    `Median (min–max) of ${r.reads} alternating reads each, one full-lab DPU. OpenSSH: the read's own remote command (captured from the provider, same argv and stdin) run by \`ssh\` over a warm ControlMaster (the client's process start included, as a user pays it).`,
    "",
    `| read (warm) | provider read() | same command over OpenSSH ControlMaster | ratio | target ≤ ${OPENSSH_RATIO_TARGET}× | round trips per read |`,
    "| --- | ---: | ---: | ---: | :---: | ---: |",
    row("DpuUnderlay", r.underlay),
    row("DpuWorkload", r.workload),
    "",
    loadLine(r.load),
  ].join("\n");
}
