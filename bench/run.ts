/**
 * `npm run bench`: every benchmark, one run per table. Writes `bench/results/<name>.json` and `.md` plus
 * `bench/results/summary.md`; with `--update-readme` the summary replaces the figures section of
 * `bench/README.md`. Needs root (network namespaces), like the lab.
 *
 * Options: `--sizes 10,100,1000` (fleet and host-refresh sizes), `--only
 * fleet,provision,host,resources,hostprofiles,ssh,lab,peers,hostrefresh,stacks`, `--concurrency 64`, `--rounds 5` (warm rounds
 * of the refreshes), `--peer-rounds 3`, `--stacks 1,2,4` and `--stack-dpus 100` (the K-stack run),
 * `--cpu-prof` (profile the plugin host of the largest host refresh; the README's "where the time goes").
 * With `--update-readme`, docs/scale-out.md's generated section is replaced too. A section that has its own
 * block in bench/README.md (`<!-- <name>:start -->`, e.g. the per-profile DpuHost requests) is written there
 * instead of into the figures, so that running it alone (`--only hostprofiles --update-readme`) leaves the
 * other figures as their own run wrote them.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { benchDpuHostRequests, benchDpuHostRequestsByProfile } from "./dpu-host-requests";
import { benchFleet, type FleetBenchResult } from "./fleet-bench";
import { benchHostOverhead, repoRoot } from "./host-overhead";
import { benchHostRefresh, type HostRefreshResult } from "./host-refresh";
import { benchPeers } from "./peers";
import { benchProvisionOverhead } from "./provision-overhead";
import {
  dpuHostProfilesMarkdown,
  fleetMarkdown,
  hostMarkdown,
  perResourceMarkdown,
  provisionMarkdown,
  simScaleMarkdown,
} from "./report";
import {
  hostRefreshMarkdown,
  peersMarkdown,
  scaleOutMarkdown,
  sshVsOpensshMarkdown,
  stacksMarkdown,
} from "./report-scale";
import { benchSimScale } from "./sim-scale";
import { benchSshVsOpenssh } from "./ssh-vs-openssh";
import { loadLine, sampleLoad } from "./stats";
import { benchUnderlayRoundTrips } from "./underlay-roundtrips";
import { benchWorkloadRoundTrips } from "./workload-roundtrips";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->` in `file`. */
function replaceSection(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const a = `<!-- ${name}:start -->`;
  const b = `<!-- ${name}:end -->`;
  const i = text.indexOf(a);
  const j = text.indexOf(b);
  if (i < 0 || j < i) throw new Error(`${file} has no ${a} … ${b} section`);
  writeFileSync(file, `${text.slice(0, i + a.length)}\n${body}\n${text.slice(j)}`);
}

/**
 * Replaces, inside the figures section, each `### title` block a partial run (`--only`) measured, keeping every
 * other block as its own run wrote it. Each replaced block says when and on what it was measured again.
 */
function replaceFigureBlocks(file: string, blocks: readonly string[], machine: string): void {
  const a = "<!-- figures:start -->";
  const b = "<!-- figures:end -->";
  const text = readFileSync(file, "utf8");
  const i = text.indexOf(a);
  const j = text.indexOf(b);
  if (i < 0 || j < i) throw new Error(`${file} has no ${a} … ${b} section`);
  let body = text.slice(i + a.length, j);
  for (const block of blocks) {
    const title = block.slice(0, block.indexOf("\n"));
    const stamped = `${title}\n\n_Measured again alone (\`--only\`) on ${machine}._${block.slice(title.length)}`;
    const at = body.indexOf(`\n${title}\n`);
    if (at < 0) {
      body = `${body.trimEnd()}\n\n${stamped}\n`;
      continue;
    }
    const next = body.indexOf("\n### ", at + title.length + 1);
    const end = next < 0 ? body.length : next;
    body = `${body.slice(0, at + 1)}${stamped.trimEnd()}\n${next < 0 ? "\n" : ""}${body.slice(end)}`;
  }
  writeFileSync(file, `${text.slice(0, i + a.length)}${body}${text.slice(j)}`);
}

async function main(): Promise<void> {
  // The bench's DpuHosts (and its workers, which inherit the environment) keep their session records and
  // claims in a directory of their own, never in the operator's ~/.pulumi-dpu: lab DPUs keep their names and
  // UUIDs from run to run, so a claim left there by a test or an earlier run would refuse them.
  process.env.PULUMI_DPU_STATE_DIR ??= mkdtempSync(join(tmpdir(), "pdu-bench-state-"));
  const root = repoRoot();
  const out = join(root, "bench", "results");
  mkdirSync(out, { recursive: true });
  const only = (
    arg("only") ?? "fleet,provision,host,resources,hostprofiles,ssh,lab,peers,hostrefresh,stacks"
  ).split(",");
  const warmRounds = Number(arg("rounds") ?? 5);
  const sizes = (arg("sizes") ?? "10,100,1000").split(",").map(Number);
  const concurrency = Number(arg("concurrency") ?? 64);
  const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ");
  const machine = `${cpus().length} CPU (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}, load average at start ${load()}`;
  const sections: string[] = [`Measured on ${machine}.`];
  const start = sampleLoad();
  if (start.busy) {
    sections.push(
      `⚠️ **The machine was busy when this run started (1-minute load ${start.load[0].toFixed(1)} on ${start.cores} cores): wall times and ratios below are inflated by other work.**`,
    );
  }
  let lastLoad = start;
  const readmeFile = join(root, "bench", "README.md");
  const readmeText = existsSync(readmeFile) ? readFileSync(readmeFile, "utf8") : "";
  /** Sections with their own README block: name → markdown. */
  const ownBlocks = new Map<string, string>();
  let figures = 0;
  const save = (name: string, json: unknown, mdIn: string, title: string) => {
    const now = sampleLoad();
    // Every section says how busy the machine was around it (the peer and refresh benches print their own).
    const md = mdIn.includes("Load average (1 / 5 / 15 min)")
      ? mdIn
      : `${mdIn}\n\n${loadLine({ before: lastLoad, after: now })}`;
    lastLoad = now;
    writeFileSync(
      join(out, `${name}.json`),
      `${JSON.stringify({ machine, ...((json as object) ?? {}) }, null, 2)}\n`,
    );
    writeFileSync(join(out, `${name}.md`), `## ${title}\n\n${md}\n`);
    if (readmeText.includes(`<!-- ${name}:start -->`))
      ownBlocks.set(name, `Measured on ${machine}.\n\n${md}`);
    else {
      sections.push(`### ${title}\n\n${md}`);
      figures++;
    }
    log(`wrote bench/results/${name}.json and .md`);
  };

  if (only.includes("fleet")) {
    const rows: FleetBenchResult[] = [];
    for (const n of sizes) rows.push(await benchFleet(n, { concurrency, warmRounds, onProgress: log }));
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
  if (only.includes("hostprofiles")) {
    const r = await benchDpuHostRequestsByProfile({ onProgress: log });
    save(
      "dpu-host-profiles",
      r,
      dpuHostProfilesMarkdown(r),
      "DpuHost Redfish requests per operation, on every simulator profile",
    );
  }
  if (only.includes("ssh")) {
    const r = await benchSshVsOpenssh(20);
    save("ssh-vs-openssh", r, sshVsOpensshMarkdown(r), "Warm SSH reads against OpenSSH (ControlMaster)");
  }
  if (only.includes("peers")) {
    const r = await benchPeers({ rounds: Number(arg("peer-rounds") ?? 3), onProgress: log });
    save("peers", r, peersMarkdown(r), "Peers side by side: provisioning N DPUs at once");
  }
  const refreshRows: HostRefreshResult[] = [];
  if (only.includes("hostrefresh")) {
    const rows = refreshRows;
    const profDir = process.argv.includes("--cpu-prof") ? join(out, "host-profile") : undefined;
    for (const n of sizes) {
      const isLast = n === Math.max(...sizes);
      rows.push(
        await benchHostRefresh(n, {
          warmRounds,
          concurrency,
          onProgress: log,
          ...(profDir && isLast ? { cpuProfileDir: profDir } : {}),
        }),
      );
    }
    save("host-refresh", { rows }, hostRefreshMarkdown(rows), "Refresh through the real plugin host (gRPC)");
  }
  let scaleOut: string | undefined;
  if (only.includes("stacks")) {
    const dpus = Number(arg("stack-dpus") ?? 100);
    const rows: HostRefreshResult[] = [];
    for (const k of (arg("stacks") ?? "1,2,4").split(",").map(Number)) {
      rows.push(await benchHostRefresh(dpus, { stacks: k, warmRounds, concurrency, onProgress: log }));
    }
    save("stacks", { rows }, stacksMarkdown(rows), "K stacks refreshing in parallel");
    scaleOut = `${scaleOutMarkdown(rows, refreshRows)}\n\n${loadLine({ before: rows[0]!.load.before, after: rows[rows.length - 1]!.load.after })}`;
    writeFileSync(join(out, "scale-out.md"), `${scaleOut}\n`);
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
    for (const [name, md] of ownBlocks) {
      replaceSection(readmeFile, name, md);
      log(`updated the ${name} block of bench/README.md`);
    }
    if (figures > 0 && arg("only") !== undefined) {
      // A partial run replaces only the blocks it measured; the others keep the full run's figures.
      replaceFigureBlocks(
        readmeFile,
        sections.filter((x) => x.startsWith("### ")),
        machine,
      );
      log("updated the measured blocks of the figures in bench/README.md");
    } else if (figures > 0) {
      replaceSection(readmeFile, "figures", summary);
      log("updated the figures in bench/README.md");
    }
    if (scaleOut) {
      replaceSection(join(root, "docs", "scale-out.md"), "computed", scaleOut);
      log("updated the computed section of docs/scale-out.md");
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
