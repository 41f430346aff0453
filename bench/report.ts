/** Markdown tables of the benchmark results (bench/results/*.md, bench/README.md). */
import type { FleetBenchResult } from "./fleet-bench";
import type { HostOverheadResult } from "./host-overhead";
import type { ProvisionOverheadResult } from "./provision-overhead";

const mark = (ok: boolean) => (ok ? "✅" : "❌");

/** Markdown of the fleet table. */
export function fleetMarkdown(rows: readonly FleetBenchResult[]): string {
  const lines = [
    "| DPUs | reads | refresh wall (warm) | refresh wall (cold) | provider CPU (warm) | provider CPU / 2 cores | Redfish req / DpuHost read | SSH trips / DpuHost read | SSH trips / DpuUnderlay read | SSH trips / DpuWorkload read | failures | drift | provider peak RSS | 1,000 in ≤ 10 s (wall / provider-bound) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.dpus} | ${r.warm.reads} | ${(r.warm.wallMs / 1000).toFixed(2)} s | ${(r.cold.wallMs / 1000).toFixed(2)} s | ${(r.warm.cpuMs / 1000).toFixed(2)} s | ${(r.warm.cpuMs / 2000).toFixed(2)} s | ${r.warm.redfishPerHostRead} ${mark(r.warm.redfishPerHostRead <= 2)} | ${r.warm.sshPerRead.host} | ${r.warm.sshPerRead.underlay} ${mark(r.warm.sshPerRead.underlay === 1)} | ${r.warm.sshPerRead.workload} ${mark(r.warm.sshPerRead.workload === 1)} | ${r.warm.failures + r.cold.failures} | ${r.warm.drifted} | ${r.peakRssMb} MiB | ${r.dpus === 1000 ? `${mark(r.warm.wallMs <= 10_000)} / ${mark(r.warm.cpuMs / 2 <= 10_000)}` : "–"} |`,
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
      `Setup: lightweight lab (a BMC per DPU, ${first.groups} shared DPU operating systems of ${Math.ceil(first.dpus / Math.max(1, first.groups))} DPUs each), ${first.concurrency} reads in flight, the provider in its own process; the cold round opens every TLS and SSH connection, the warm round reuses them. The simulated DPUs run their side of every read (sshd, the read scripts) on the same cores as the provider: wall time includes that work, which a real fleet does on its own DPUs; the provider's own CPU time is in its column.`,
    );
  }
  return lines.join("\n");
}

/** Markdown of the provisioning table. */
export function provisionMarkdown(r: ProvisionOverheadResult): string {
  return [
    "| provider wall | floor | ratio (target ≤ 1.2) | provider requests | floor requests | per-request latency |",
    "| ---: | ---: | :---: | ---: | ---: | ---: |",
    `| ${r.providerMs} ms | ${r.floorMs} ms | ${r.ratio} ${mark(r.ratio <= 1.2)} | ${r.providerRequests} | ${r.floorRequests} | ${r.perRequestMs} ms |`,
    "",
    "Floor steps (ms):",
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
