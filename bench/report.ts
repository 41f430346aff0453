/** Markdown tables of the benchmark results (bench/results/*.md, bench/README.md). */
import {
  type DpuHostProfileBench,
  type DpuHostRequestCounts,
  type InstallCount,
  DPU_HOST_REQUEST_TARGETS as T,
} from "./dpu-host-requests";
import type { FleetBenchResult } from "./fleet-bench";
import type { HostOverheadResult } from "./host-overhead";
import type { ProvisionOverheadResult } from "./provision-overhead";
import { explainCount, forcedNote } from "./request-reasons";
import type { SimScaleResult } from "./sim-scale";

import { fmtSpread, mark, spread, verdict } from "./stats";

/** Markdown of the fleet table. */
export function fleetMarkdown(rows: readonly FleetBenchResult[]): string {
  const lines = [
    "| DPUs | reads | wall, warm (includes the DPU side) | wall, cold | provider CPU, warm (its own process) | provider CPU per read | machine CPU, all processes, warm | Redfish req / DpuHost read (≤ 2) | SSH trips / DpuHost read | SSH trips / DpuUnderlay read (1) | SSH trips / DpuWorkload read (1) | failures | drift | provider peak RSS | 1,000 in ≤ 10 s wall |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
  ];
  for (const r of rows) {
    const w = r.warmRounds;
    lines.push(
      `| ${r.dpus} | ${r.warm.reads} | ${fmtSpread(spread(w.map((x) => x.wallMs / 1000)), "s")} | ${(r.cold.wallMs / 1000).toFixed(2)} s | ${fmtSpread(spread(w.map((x) => x.cpuMs / 1000)), "s")} | ${fmtSpread(spread(w.map((x) => x.cpuMs / Math.max(1, x.reads))), "ms")} | ${fmtSpread(spread(w.map((x) => x.machineCpuMs / 1000)), "s", 1)} | ${r.warm.redfishPerHostRead} ${mark(r.warm.redfishPerHostRead <= 2)} | ${r.warm.sshPerRead.host} | ${r.warm.sshPerRead.underlay} ${mark(r.warm.sshPerRead.underlay === 1)} | ${r.warm.sshPerRead.workload} ${mark(r.warm.sshPerRead.workload === 1)} | ${r.warm.failures + r.cold.failures} | ${r.warm.drifted} | ${r.peakRssMb} MiB | ${r.dpus === 1000 ? mark(spread(w.map((x) => x.wallMs)).median <= 10_000) : "–"} |`,
    );
  }
  lines.push(
    "",
    "Read latency (warm round, ms, p50 / p95):",
    "",
    "| DPUs | DpuHost | DpuUnderlay | DpuWorkload |",
    "| ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.dpus} | ${r.warm.latencyMs.host.p50} / ${r.warm.latencyMs.host.p95} | ${r.warm.latencyMs.underlay.p50} / ${r.warm.latencyMs.underlay.p95} | ${r.warm.latencyMs.workload.p50} / ${r.warm.latencyMs.workload.p95} |`,
    ),
  );
  const first = rows[0];
  if (first) {
    lines.push(
      "",
      `Setup: lightweight lab (a BMC per DPU; DPUs share an operating system in groups of ${Math.ceil(first.dpus / Math.max(1, first.groups))}), ${first.concurrency} reads in flight, the provider in its own process; the cold round opens every TLS and SSH connection, the warm round reuses them. The simulated DPUs run their side of every read (sshd, the read scripts) on the same cores as the provider: wall time includes that work, which a real fleet does on its own DPUs; the provider's own CPU time is in its own column and is not a wall time; the machine's busy CPU during the warm rounds (every process, from /proc/stat, including other users of the machine) is in another. Warm figures: median (min–max) of ${first.warmRounds.length} warm rounds.`,
    );
  }
  return lines.join("\n");
}

/** Markdown of the provisioning table. */
export function provisionMarkdown(r: ProvisionOverheadResult): string {
  return [
    `Median (min–max) of ${r.providerRunsMs.length} alternating runs; both sides' requests counted by the BMC; the floor polls at the provider's interval measured in the same run (${r.pollMs} ms).`,
    "",
    "| provider wall | floor wall | ratio of medians (target ≤ 1.2) | provider requests | floor requests | per-request latency |",
    "| ---: | ---: | :---: | ---: | ---: | ---: |",
    `| ${fmtSpread(spread(r.providerRunsMs), "ms", 0)} | ${fmtSpread(spread(r.floorRunsMs), "ms", 0)} | ${r.ratio} ${mark(r.ratio <= 1.2)} | ${r.providerRequests} | ${r.floorRequests} | ${r.perRequestMs} ms |`,
    "",
    "Floor steps of the median floor run (ms):",
    "",
    "| step | ms |",
    "| --- | ---: |",
    ...r.floorSteps.map((s) => `| ${s.step} | ${s.ms} |`),
  ].join("\n");
}

/** Markdown of the host table. */
export function hostMarkdown(r: HostOverheadResult): string {
  const row = (name: string, x: HostOverheadResult["check"]) =>
    `| ${name} | ${x.hostP50} | ${x.hostP95} | ${x.inProcessP50} | ${x.overheadP50} ${mark(x.overheadP50 <= 5)} |`;
  return [
    "| call (warm) | via host p50 (ms) | via host p95 (ms) | in-process p50 (ms) | host overhead p50 (ms, target ≤ 5) |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("Check (DpuHost)", r.check),
    row("Diff (DpuHost)", r.diff),
    "",
    `Serialization: \`serializeFunction\` of the DpuHost shim ${r.serialize.ms} ms, \`__provider\` ${r.serialize.bytes} bytes; one Check request ${r.checkRequestBytes} bytes on the wire. Host start (spawn → port line) ${r.hostStartMs} ms. ${r.calls} calls per row.`,
  ].join("\n");
}

/** Per-resource costs on one simulated DPU (warm connections). */
export interface PerResourceResult {
  readonly host: DpuHostRequestCounts;
  readonly underlay: Readonly<Record<string, number>>;
  readonly workload: Readonly<Record<string, number>>;
}

/** Markdown of the per-resource table. */
export function perResourceMarkdown(r: PerResourceResult): string {
  const n = (x: number | undefined) => (x === undefined ? "–" : String(Math.round(x * 100) / 100));
  return [
    "| resource | per read() | target | create | update | delete |",
    "| --- | ---: | :---: | ---: | ---: | ---: |",
    `| DpuHost (Redfish requests, counted by the BMC) | ${n(r.host.requestsPerRead)} ${mark(r.host.requestsPerRead <= T.perRead)} | ≤ ${T.perRead} | ${r.host.createTotal}; before the boot wait ${r.host.createBeforeBootWait} (target ≤ ${T.freshBeforeBootWait}: ${verdict(r.host.createBeforeBootWait <= T.freshBeforeBootWait)}) | re-image ${r.host.reimageTotal}; before the boot wait ${r.host.reimageBeforeBootWait} (target ≤ ${T.reimageBeforeBootWait}: ${verdict(r.host.reimageBeforeBootWait <= T.reimageBeforeBootWait)}) | – |`,
    `| DpuUnderlay (SSH round trips) | ${n(r.underlay.roundTripsPerRead)} ${mark(r.underlay.roundTripsPerRead === 1)} | 1 | ${n(r.underlay.createRoundTrips)} (${n(r.underlay.createLatencyMs)} ms) | ${n(r.underlay.updateRoundTrips)} (${n(r.underlay.updateLatencyMs)} ms) | ${n(r.underlay.deleteRoundTrips)} (${n(r.underlay.deleteLatencyMs)} ms) |`,
    `| DpuWorkload (SSH round trips) | ${n(r.workload.roundTripsPerRead)} ${mark(r.workload.roundTripsPerRead === 1)} | 1 | ${n(r.workload.createRoundTrips)} | – | ${n(r.workload.deleteRoundTrips)} |`,
    "",
    `Read latency on a warm connection: DpuUnderlay ${n(r.underlay.readLatencyMs)} ms, DpuWorkload ${n(r.workload.readMs)} ms. Create, update and delete of DpuUnderlay include the armed rollback and its confirmation.`,
  ].join("\n");
}

/** Markdown of the per-profile DpuHost request table (each figure counted by the BMC in this run). */
export function dpuHostProfilesMarkdown(r: DpuHostProfileBench): string {
  const n = (x: number | undefined) => (x === undefined ? "–" : String(Math.round(x * 100) / 100));
  const vs = (x: number | undefined, target: number) => (x === undefined ? "–" : `${x} ${mark(x <= target)}`);
  const cut = (t: string) => (t.length > 160 ? `${t.slice(0, 160)}…` : t).replace(/\|/g, "\\|");
  const lines = [
    `| profile | method (create → re-image) | create, before the boot wait (≤ ${T.freshBeforeBootWait}) | create, total | per read (≤ ${T.perRead}) | re-image, before the boot wait (≤ ${T.reimageBeforeBootWait}) | re-image, total | delete | note |`,
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of r.rows) {
    const over = (what: string, c: InstallCount | undefined, target: number) =>
      c && c.beforeBootWait > target
        ? `${what} over ≤ ${target}: ${forcedNote(c.sequence) || "nothing forced"}`
        : "";
    const notes = [
      row.inputsNeeded ? `inputs: ${row.inputsNeeded.join(", ")}` : "",
      over("create", row.create, T.freshBeforeBootWait),
      over("re-image", row.reimage, T.reimageBeforeBootWait),
      row.isoRefused ? `ISO: ${cut(row.isoRefused)}` : "",
      row.error ? `${row.create ? "stopped" : "refused"}: ${cut(row.error)}` : "",
    ].filter(Boolean);
    lines.push(
      `| \`${row.profile}\` | ${row.method ?? "–"} (${row.images.join(" → ") || "–"}) | ${vs(row.create?.beforeBootWait, T.freshBeforeBootWait)} | ${n(row.create?.total)} | ${row.requestsPerRead === undefined ? "–" : `${n(row.requestsPerRead)} ${mark(row.requestsPerRead <= T.perRead)}`} | ${vs(row.reimage?.beforeBootWait, T.reimageBeforeBootWait)} | ${n(row.reimage?.total)} | ${n(row.delete)} | ${notes.join("; ")} |`,
    );
  }
  const ran = r.rows.filter((x) => x.create);
  const fresh = ran.filter((x) => (x.create?.beforeBootWait ?? Infinity) <= T.freshBeforeBootWait).length;
  const re = ran.filter((x) => x.reimage && x.reimage.beforeBootWait <= T.reimageBeforeBootWait).length;
  const unexplained = ran.filter(
    (x) =>
      (x.create && explainCount(x.create.sequence, T.freshBeforeBootWait).unexplained > 0) ||
      (x.reimage && explainCount(x.reimage.sequence, T.reimageBeforeBootWait).unexplained > 0),
  ).length;
  lines.push(
    "",
    `One full-lab DPU per profile (boot time ${r.bootTimeMs} ms), one operation at a time, inputs with the SSH readiness probe and the image's sha256; every request counted by the BMC (request-log.ts), polls included in the totals. "Before the boot wait" counts up to and including the reset (SimpleUpdate, where the BMC reboots the DPU by itself: up to and including the SimpleUpdate request; the task polls follow). Create installs an ISO (the method DpuHost picks), or a BFB where no method takes the ISO; re-image installs the next image of the same kind; per read is the mean of ${r.reads} reads. Inputs a profile needs beyond those (bmc.systemId, a bundle over SCP) are added as a user would after DpuHost's refusal names them, and shown in the note. A count over its target lists in the note the requests the BMC's shape forces, each labelled from the request log (request-reasons.ts). Targets met: fresh ${fresh} of ${ran.length} profiles, re-image ${re} of ${ran.length}; profiles over a target by a request nothing forces: ${unexplained}.`,
  );
  return lines.join("\n");
}

/** Markdown of the lab-scale table. */
export function simScaleMarkdown(r: SimScaleResult): string {
  return [
    "| DPUs | running when ready | start | stop | namespaces left | links left |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${r.count} | ${r.running} ${mark(r.running === r.count)} | ${r.startSeconds.toFixed(1)} s | ${r.stopSeconds.toFixed(1)} s | ${r.leftoverNamespaces} ${mark(r.leftoverNamespaces === 0)} | ${r.leftoverLinks} ${mark(r.leftoverLinks === 0)} |`,
  ].join("\n");
}
