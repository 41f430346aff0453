/**
 * `npm run bench`: every benchmark, one run per table. Writes `bench/results/<name>.json` and `.md` plus
 * `bench/results/summary.md`; with `--update-readme` the summary replaces the figures section of
 * `bench/README.md`. Needs root (network namespaces), like the lab.
 *
 * Options: `--sizes 10,100,1000` (fleet sizes), `--only fleet,provision,host,resources,lab`, `--concurrency 64`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { benchDpuHostRequests } from "./dpu-host-requests";
import { benchFleet, type FleetBenchResult } from "./fleet-bench";
import { benchHostOverhead, repoRoot } from "./host-overhead";
import { benchProvisionOverhead } from "./provision-overhead";
import {
  fleetMarkdown,
  hostMarkdown,
  perResourceMarkdown,
  provisionMarkdown,
  simScaleMarkdown,
} from "./report";
import { benchSimScale } from "./sim-scale";
import { benchUnderlayRoundTrips } from "./underlay-roundtrips";
import { benchWorkloadRoundTrips } from "./workload-roundtrips";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const out = join(root, "bench", "results");
  mkdirSync(out, { recursive: true });
  const only = (arg("only") ?? "fleet,provision,host,resources,lab").split(",");
  const sizes = (arg("sizes") ?? "10,100,1000").split(",").map(Number);
  const concurrency = Number(arg("concurrency") ?? 64);
  const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ");
  const machine = `${cpus().length} CPU (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}, load average at start ${load()}`;
  const sections: string[] = [`Measured on ${machine}.`];
  const save = (name: string, json: unknown, md: string, title: string) => {
    writeFileSync(
      join(out, `${name}.json`),
      `${JSON.stringify({ machine, ...((json as object) ?? {}) }, null, 2)}\n`,
    );
    writeFileSync(join(out, `${name}.md`), `## ${title}\n\n${md}\n`);
    sections.push(`### ${title}\n\n${md}`);
    log(`wrote bench/results/${name}.json and .md`);
  };

  if (only.includes("fleet")) {
    const rows: FleetBenchResult[] = [];
    for (const n of sizes) rows.push(await benchFleet(n, { concurrency, onProgress: log }));
    save(
      "fleet-refresh",
      { rows },
      fleetMarkdown(rows),
      "Converged refresh of a fleet (DpuHost + DpuUnderlay + DpuWorkload per DPU)",
    );
  }
  if (only.includes("provision")) {
    const r = await benchProvisionOverhead();
    log(`provisioning: provider ${r.providerMs} ms, floor ${r.floorMs} ms, ratio ${r.ratio}`);
    save("provision-overhead", r, provisionMarkdown(r), "Provisioning overhead (boot time 0)");
  }
  if (only.includes("host")) {
    const r = await benchHostOverhead();
    log(`host: check overhead ${r.check.overheadP50} ms, diff overhead ${r.diff.overheadP50} ms`);
    save(
      "host-overhead",
      r,
      hostMarkdown(r),
      "Dynamic-provider host (warm per-call overhead, serialization)",
    );
  }
  if (only.includes("resources")) {
    const r = {
      host: await benchDpuHostRequests(),
      underlay: await benchUnderlayRoundTrips(),
      workload: await benchWorkloadRoundTrips(),
    };
    log(
      `resources: DpuHost ${r.host.requestsPerRead} requests/read, underlay ${r.underlay.roundTripsPerRead} and workload ${r.workload.roundTripsPerRead} round trips/read`,
    );
    save("per-resource", r, perResourceMarkdown(r), "Per resource, one DPU (requests and round trips)");
  }
  if (only.includes("lab")) {
    const r = await benchSimScale(50, log);
    log(`lab: 50 DPUs up in ${r.startSeconds} s, down in ${r.stopSeconds} s`);
    save("lab-scale", r, simScaleMarkdown(r), "The lab itself: 50 full DPUs (namespace, sshd, BMC each)");
  }
  sections.push(
    `Load average at the end: ${load()} (1 / 5 / 15 min; the machine is shared, so compare with the start).`,
  );
  const summary = sections.join("\n\n");
  writeFileSync(join(out, "summary.md"), `${summary}\n`);
  if (process.argv.includes("--update-readme")) {
    const readme = join(root, "bench", "README.md");
    const text = existsSync(readme) ? readFileSync(readme, "utf8") : "";
    const start = "<!-- figures:start -->";
    const end = "<!-- figures:end -->";
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) {
      writeFileSync(readme, `${text.slice(0, i + start.length)}\n${summary}\n${text.slice(j)}`);
      log("updated the figures in bench/README.md");
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
