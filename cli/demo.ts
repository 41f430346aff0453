/**
 * `pulumi-dpu demo` (`npm run demo`), the main job: starts a simulated DPU fleet, then runs examples/fleet
 * against it — up, a change (new OS image, new agent greeting), preview --diff, up, destroy — with the real
 * Pulumi CLI when there is one, else through the engine-contract harness (the real `@pulumi/pulumi`
 * dynamic-provider host driven over gRPC with the engine's rules), and says which. The lab's live fleet
 * dashboard shows each DPU's power, boot progress, image, underlay addresses and workload while it runs.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { BMC_PROFILES } from "../simulator/contracts";
import { type Lab, type LabProfile, startLab } from "../simulator/lab";
import type { DemoContext, PhaseResult } from "./demo-context";
import { dpuNamer } from "./demo-names";
import { banner, say, secondsSince, section } from "./demo-output";
import { prepareFleetProgram } from "./demo-program";

const HELP = `usage: pulumi-dpu demo [options]

Starts a simulated fleet of DPUs (Redfish BMCs, DPUs with real sshd in network namespaces) and runs the
examples/fleet Pulumi program against it: pulumi up, a change (image dpu-os-2.0.iso, a new agent greeting),
pulumi preview --diff, pulumi up, pulumi destroy. Uses the Pulumi CLI when one is installed (local file
backend, no passphrase prompt); otherwise runs the same program through the engine-contract harness. Watch
it on the lab's fleet dashboard (its address is printed first). Needs root.

options:
  --count N           number of DPUs (default 3)
  --profile P         BMC profile: ${BMC_PROFILES.join(", ")} or mixed (default generic;
                      the example boots an ISO, which a bluefield BMC only takes as a BFB)
  --boot-time-ms MS   simulated boot time of a DPU (default 3000)
  --keep-running      leave the lab (and its dashboard) up after the demo, until Ctrl-C
  --pulumi PATH       the Pulumi CLI to use (default: pulumi on PATH or in ~/.pulumi/bin)
  --harness           use the engine-contract harness even when a Pulumi CLI is installed
  -h, --help          show this help
`;

const PROJECT = "dpufleet";
const STACK = "demo";

interface DemoOptions {
  readonly count: number;
  readonly profile: LabProfile;
  readonly bootTimeMs: number | undefined;
  readonly keepRunning: boolean;
  readonly pulumi: string | undefined;
  readonly harness: boolean;
}

function fail(message: string): number {
  process.stderr.write(`pulumi-dpu demo: ${message}\n\nRun 'pulumi-dpu demo --help' for usage.\n`);
  return 2;
}

function parse(argv: readonly string[]): DemoOptions | string | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: "string" },
        profile: { type: "string" },
        "boot-time-ms": { type: "string" },
        "keep-running": { type: "boolean" },
        pulumi: { type: "string" },
        harness: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (values.help) return "help";
  const count = values.count === undefined ? 3 : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 64) return "--count must be an integer from 1 to 64";
  const profile = String(values.profile ?? "generic");
  if (profile !== "mixed" && !(BMC_PROFILES as readonly string[]).includes(profile)) {
    return `--profile must be one of ${BMC_PROFILES.join(", ")}, mixed`;
  }
  const boot = values["boot-time-ms"];
  const bootTimeMs = boot === undefined ? undefined : Number(boot);
  if (bootTimeMs !== undefined && (!Number.isFinite(bootTimeMs) || bootTimeMs < 0)) {
    return "--boot-time-ms must be a non-negative number";
  }
  return {
    count,
    profile: profile as LabProfile,
    bootTimeMs,
    keepRunning: values["keep-running"] === true,
    pulumi: typeof values.pulumi === "string" ? values.pulumi : undefined,
    harness: values.harness === true,
  };
}

/** The dashboard's address: `lab.dashboardUrl` when the simulator serves one, else the control API. */
function dashboardOf(lab: Lab): { url: string; isDashboard: boolean } {
  const url = (lab as Lab & { dashboardUrl?: unknown }).dashboardUrl;
  return typeof url === "string" && url !== ""
    ? { url, isDashboard: true }
    : { url: `${lab.controlUrl}/state`, isDashboard: false };
}

function showDashboard(lab: Lab): void {
  const d = dashboardOf(lab);
  banner(
    d.isDashboard
      ? [`Fleet dashboard: ${d.url}`, "power, boot progress, image, underlay and workload of every DPU, live"]
      : [`Fleet state (JSON): ${d.url}`, "this simulator build serves no dashboard page"],
  );
}

/** Clean-ups run on error or Ctrl-C, newest first. */
class Cleanups {
  private readonly fns = new Set<() => Promise<void>>();

  add(fn: () => Promise<void>): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  async runAll(): Promise<void> {
    for (const fn of [...this.fns].reverse()) {
      this.fns.delete(fn);
      await fn().catch(() => {});
    }
  }
}

function summary(results: readonly PhaseResult[], total: number): void {
  section("summary");
  for (const r of results)
    say(`  ${r.phase.padEnd(26)} ${r.result.padEnd(40)} ${r.seconds.toFixed(1).padStart(6)} s`);
  say(`  ${"total (lab included)".padEnd(26)} ${"".padEnd(40)} ${total.toFixed(1).padStart(6)} s`);
}

/** Runs the `demo` subcommand with `argv` (the arguments after `demo`); resolves to the exit code. */
export async function demo(
  argv: readonly string[],
  nodeFeatures: { typescript?: unknown } = process.features as { typescript?: unknown },
): Promise<number> {
  const opts = parse(argv);
  if (opts === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof opts === "string") return fail(opts);

  // Which engine runs the program is known before the lab starts: without a Pulumi CLI the harness imports
  // examples/fleet/index.ts, which needs Node's type stripping; say so now, not after starting a lab.
  const { findPulumiCli, runWithPulumiCli } = await import("./demo-pulumi-cli.js");
  const cli = opts.harness ? { reason: "--harness given" } : findPulumiCli(opts.pulumi);
  if (!("bin" in cli)) {
    const { typeStrippingProblem } = await import("./demo-harness.js");
    const unsupported = typeStrippingProblem(nodeFeatures);
    if (unsupported) {
      process.stderr.write(`pulumi-dpu demo: ${unsupported}; nothing was started\n`);
      return 1;
    }
  }

  const started = performance.now();
  const cleanups = new Cleanups();
  let interrupted = false;
  let idle: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (idle) {
      // --keep-running, demo done: a normal end.
      say(`\n${signal}`);
      idle();
      return;
    }
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping the demo and the lab…`);
    void cleanups.runAll().then(() => {
      say("lab stopped");
      process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-dpu-demo-"));
  cleanups.add(async () => fs.rmSync(workDir, { recursive: true, force: true }));
  let lab: Lab | undefined;
  try {
    say(
      `pulumi-dpu demo: ${opts.count} simulated DPUs, provisioned, configured and changed by examples/fleet`,
    );
    section(`starting the lab (${opts.count} DPUs, profile ${opts.profile})`);
    const labStart = performance.now();
    lab = await startLab({
      count: opts.count,
      profile: opts.profile,
      ...(opts.bootTimeMs !== undefined ? { bootTimeMs: opts.bootTimeMs } : {}),
      onProgress: (m) => say(`  [sim] ${m}`),
    });
    const theLab = lab;
    cleanups.add(() => theLab.stop());
    say(`  lab ready in ${secondsSince(labStart)} (slot ${lab.slot}, state ${lab.stateDir})`);
    for (const d of lab.endpoints.dpus) {
      say(
        `  ${d.name.padEnd(7)} ${d.profile.padEnd(10)} BMC ${d.bmc.url}   ssh ${d.ssh.username}@${d.ssh.host}`,
      );
    }
    say();
    showDashboard(lab);

    const endpointsFile = path.join(workDir, "endpoints.json");
    fs.writeFileSync(endpointsFile, `${JSON.stringify(lab.endpoints, null, 2)}\n`, { mode: 0o600 });
    const ctx: DemoContext = {
      exampleDir: prepareFleetProgram(workDir),
      project: PROJECT,
      stack: STACK,
      workDir,
      endpointsFile,
      config: {
        [`${PROJECT}:endpointsFile`]: endpointsFile,
        "dpu:bmcUsername": lab.endpoints.dpus[0]?.bmc.username ?? "admin",
        "dpu:bmcCaCert": fs.readFileSync(lab.caFile, "utf8"),
      },
      secretConfig: { "dpu:sshPrivateKey": fs.readFileSync(lab.sshPrivateKeyFile, "utf8") },
      change: { [`${PROJECT}:image`]: "dpu-os-2.0.iso", [`${PROJECT}:greeting`]: "hello from the demo" },
      nameDpus: dpuNamer(lab.endpoints),
      onCleanup: (fn) => cleanups.add(fn),
    };

    let results: PhaseResult[];
    if ("bin" in cli) {
      section(`Pulumi CLI ${cli.version} (${cli.bin})`);
      say(
        "  running examples/fleet with the real Pulumi CLI: local file backend, empty passphrase, stack demo",
      );
      results = await runWithPulumiCli(ctx, cli.bin);
    } else {
      section("engine: engine-contract harness");
      say(`  No Pulumi CLI on this machine (${cli.reason});`);
      say(
        "  running examples/fleet through the engine-contract harness: the real @pulumi/pulumi dynamic-provider",
      );
      say(
        "  host driven over gRPC with the engine's rules (secrets stripped and re-marked, no Create/Update in",
      );
      say("  preview, state kept between commands, a fresh plugin host per command).");
      say("  Provider progress (what `pulumi up` would show) is indented with │.");
      const { runWithHarness } = await import("./demo-harness.js");
      results = await runWithHarness(ctx);
    }

    summary(results, (performance.now() - started) / 1000);
    say();
    showDashboard(lab);
    if (!opts.keepRunning) {
      say(
        "  The lab (and this dashboard) stops now. To look around after the demo, run it with --keep-running:",
      );
      say("  the lab stays up until Ctrl-C.");
    }
    if (opts.keepRunning && !interrupted) {
      say("  --keep-running: the lab stays up; press Ctrl-C to stop it");
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    }
    return 0;
  } catch (e) {
    if (interrupted) return 130;
    say();
    say(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    if (!interrupted) {
      if (lab) say("stopping the lab…");
      await cleanups.runAll();
      if (lab) say("lab stopped; nothing left behind");
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
