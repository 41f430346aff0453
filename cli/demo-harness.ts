/**
 * The demo without a Pulumi CLI: examples/fleet runs in this process under `pulumi.runtime.setMocks`, and
 * every dynamic resource goes through the engine stand-in (engine/) to the REAL `@pulumi/pulumi`
 * dynamic-provider host over gRPC, with the engine's rules (secrets stripped and re-marked, no Create or
 * Update in preview, state carried between commands). As `pulumi` does, every command starts a fresh host.
 */
import * as path from "node:path";
import {
  countSteps,
  describeCounts,
  type EngineHost,
  formatPlan,
  type HostStep,
  type ProgramRun,
  runProgram,
  type StateEntry,
  startEngineHost,
} from "../engine";
import type { DemoContext, PhaseResult } from "./demo-context";
import { LinePrinter, say, section } from "./demo-output";

const SYMBOL: Record<string, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
const PAST: Record<string, string> = {
  create: "created",
  update: "updated",
  replace: "replaced",
  delete: "deleted",
  same: "unchanged",
};

function shortType(type: string): string {
  return type.replace(/^pulumi-nodejs:dynamic\//, "");
}

function stepLine(s: HostStep): string {
  const secs = s.end > s.start ? ` (${((s.end - s.start) / 1000).toFixed(1)} s)` : "";
  return `  ${(SYMBOL[s.op] ?? "?").padEnd(2)} ${shortType(s.type).padEnd(16)} ${s.name.padEnd(16)} ${PAST[s.op] ?? s.op}${secs}`;
}

/**
 * Why this Node cannot import the program's `index.ts` (the harness relies on Node's type stripping), or
 * undefined when it can.
 */
export function typeStrippingProblem(
  features: { typescript?: unknown } = process.features as { typescript?: unknown },
  version = process.version,
): string | undefined {
  if (features.typescript) return undefined;
  return `Node ${version} does not strip TypeScript types, which the engine-contract harness needs to run examples/fleet/index.ts: use Node >= 22.18 (or install the Pulumi CLI)`;
}

/** Runs the demo's commands through the engine-contract harness; resolves to the phase summaries. */
export async function runWithHarness(ctx: DemoContext): Promise<PhaseResult[]> {
  const unsupported = typeStrippingProblem();
  if (unsupported) throw new Error(unsupported);
  const program = path.join(ctx.exampleDir, "index.ts");
  const secretKeys = Object.keys(ctx.secretConfig);
  let config: Record<string, string> = { ...ctx.config, ...ctx.secretConfig };
  let checkpoint: StateEntry[] = [];
  const results: PhaseResult[] = [];

  /** One CLI command: a fresh plugin host configured with the stack config, the state loaded from the checkpoint. */
  async function command<T>(fn: (eh: EngineHost) => Promise<T>): Promise<T> {
    const out = new LinePrinter("      │ ", ctx.nameDpus);
    const eh = await startEngineHost({
      programDir: ctx.exampleDir,
      project: ctx.project,
      stack: ctx.stack,
      config,
      secretKeys,
      onOutput: (chunk) => out.write(chunk),
    });
    const unregister = ctx.onCleanup(() => eh.close());
    try {
      eh.engine.load(checkpoint);
      const r = await fn(eh);
      return r;
    } finally {
      checkpoint = eh.engine.snapshot();
      unregister();
      await eh.close();
      out.flush();
    }
  }

  async function up(label: string): Promise<ProgramRun> {
    section(`pulumi up (${label})`);
    const run = await command((eh) =>
      runProgram({
        engine: eh.engine,
        program,
        project: ctx.project,
        stack: ctx.stack,
        preview: false,
        config,
        secretKeys,
        onStep: (s) => say(stepLine(s)),
      }),
    );
    const counts = describeCounts(countSteps(run.steps), false);
    say(`  outputs: images ${JSON.stringify(run.outputs.images)}`);
    say(`           agents ${JSON.stringify(run.outputs.agents)}`);
    say(`  Resources: ${counts}; ${run.seconds.toFixed(1)} s`);
    results.push({ phase: `up (${label})`, result: counts, seconds: run.seconds });
    return run;
  }

  await up("provision the fleet");

  section("change: config image=dpu-os-2.0.iso, greeting");
  for (const [k, v] of Object.entries(ctx.change))
    say(`  pulumi config set ${k.split(":")[1]} ${JSON.stringify(v)}`);
  config = { ...config, ...ctx.change };

  section("pulumi preview --diff");
  const preview = await command((eh) =>
    runProgram({
      engine: eh.engine,
      program,
      project: ctx.project,
      stack: ctx.stack,
      preview: true,
      config,
      secretKeys,
    }),
  );
  for (const line of formatPlan(preview.steps.map((s) => ({ ...s, type: shortType(s.type) })))) say(line);
  const previewCounts = describeCounts(countSteps(preview.steps), true);
  say(`  Resources: ${previewCounts}`);
  const count = (m: string) => preview.calls.filter((c) => c.method === m).length;
  const writes = count("Create") + count("Update") + count("Delete");
  say(
    `  provider calls during preview: ${count("Check")} Check, ${count("Diff")} Diff, ` +
      `${count("Create")} Create, ${count("Update")} Update, ${count("Delete")} Delete` +
      (writes === 0 ? " — preview touched no hardware" : ""),
  );
  if (writes > 0) throw new Error(`preview sent ${writes} Create/Update/Delete calls`);
  results.push({ phase: "preview --diff", result: previewCounts, seconds: preview.seconds });

  await up("apply the change");

  section("pulumi destroy");
  const started = performance.now();
  const destroyed = await command(async (eh) => {
    let last = performance.now();
    return eh.engine.destroy({
      onStep: (s) => {
        const [, , type = "", name = ""] = s.urn.split("::");
        const now = performance.now();
        say(stepLine({ ...s, type, name, start: last, end: now }));
        last = now;
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const counts = describeCounts(countSteps(destroyed), false);
  say(`  Resources: ${counts}; ${seconds.toFixed(1)} s`);
  results.push({ phase: "destroy", result: counts, seconds });
  return results;
}
