/**
 * Runs a Pulumi program (its entry file, TypeScript or JavaScript) in this process as `pulumi up` or
 * `pulumi preview` would, with every dynamic-provider resource going through a {@link FakeEngine} to the
 * real dynamic-provider host: the program runs inside a root `pulumi:pulumi:Stack`, registrations are awaited
 * (including the ones no stack output depends on), and resources in state that the program no longer
 * declares are deleted (or, in preview, planned for deletion) at the end.
 */
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import type { CallRecord, FakeEngine } from "./fake-engine";
import { type HostStep, installHostMocks } from "./host-mocks";

/** Options of {@link runProgram}. */
export interface ProgramRunOptions {
  readonly engine: FakeEngine;
  /** Absolute path of the program's entry file (`index.ts` runs with Node's type stripping). */
  readonly program: string;
  readonly project: string;
  readonly stack: string;
  /** `pulumi preview` instead of `pulumi up`. */
  readonly preview: boolean;
  /** Stack config with namespaced keys (`<project>:image`, `dpu:bmcUsername`). */
  readonly config: Record<string, string>;
  /** Config keys that are secrets (`config.getSecret` returns them as secret Outputs). */
  readonly secretKeys?: readonly string[];
  /** Called when a dynamic resource's registration starts. */
  readonly onStart?: (type: string, name: string) => void;
  /** Called when a resource's step finished (deletes included). */
  readonly onStep?: (step: HostStep) => void;
}

/** What one run did. */
export interface ProgramRun {
  /** Steps in the order they finished; deletions of undeclared resources last. */
  readonly steps: HostStep[];
  /** The stack outputs (values unknown in preview are left out). */
  readonly outputs: Record<string, unknown>;
  /** Every provider call the engine made during the run. */
  readonly calls: CallRecord[];
  /** Wall time in seconds. */
  readonly seconds: number;
}

/** A run in which the program or some resources failed; `steps` holds what completed. */
export class ProgramFailedError extends Error {
  override readonly name = "ProgramFailedError";
  constructor(
    readonly errors: readonly string[],
    readonly steps: readonly HostStep[],
  ) {
    super(`the program failed:\n  ${errors.join("\n  ")}`);
  }
}

let runCounter = 0;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Imports a fresh instance of the program: a module is evaluated once per URL, so each run gets its own query.
 * Node warns that a typeless package's `.ts` file is reparsed as an ES module; that one warning is dropped.
 */
async function importProgram(file: string): Promise<Record<string, unknown>> {
  const saved = process.listeners("warning");
  process.removeAllListeners("warning");
  const filter = (w: Error & { code?: string }): void => {
    if (w.code === "MODULE_TYPELESS_PACKAGE_JSON") return;
    for (const l of saved) l(w);
  };
  process.on("warning", filter);
  try {
    runCounter += 1;
    const mod = (await import(`${pathToFileURL(file).href}?run=${runCounter}`)) as Record<string, unknown>;
    // Warnings are emitted on a later tick.
    await new Promise((r) => setImmediate(r));
    return { ...mod };
  } finally {
    process.off("warning", filter);
    for (const l of saved) process.on("warning", l);
  }
}

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 50));
}

/** Runs the program once (`pulumi up`, or `pulumi preview` when `preview`); see the module comment. */
export async function runProgram(opts: ProgramRunOptions): Promise<ProgramRun> {
  const started = performance.now();
  const mark = opts.engine.calls.length;
  const errors: string[] = [];
  let inFlight = 0;
  let signalFailure: () => void = () => {};
  const failed = new Promise<void>((r) => {
    signalFailure = r;
  });
  const steps = await installHostMocks(opts.engine, {
    project: opts.project,
    stack: opts.stack,
    preview: opts.preview,
    onStart: (type, name) => {
      inFlight += 1;
      opts.onStart?.(type, name);
    },
    onStep: (step) => {
      inFlight -= 1;
      opts.onStep?.(step);
    },
    onError: (_type, name, e) => {
      inFlight -= 1;
      errors.push(`${name}: ${message(e)}`);
      signalFailure();
    },
  });
  pulumi.runtime.setAllConfig(opts.config, [...(opts.secretKeys ?? [])]);

  // A failed registration surfaces in the Pulumi runtime as unhandled rejections of its dependents.
  const rejections: string[] = [];
  const onRejection = (e: unknown): void => {
    rejections.push(message(e));
    signalFailure();
  };
  process.on("unhandledRejection", onRejection);
  let outputs: Record<string, unknown> = {};
  try {
    const run = pulumi.runtime
      .runInPulumiStack(() => importProgram(opts.program))
      .then(
        (o) => {
          outputs = (o ?? {}) as Record<string, unknown>;
        },
        (e: unknown) => {
          errors.push(`program: ${message(e)}`);
        },
      );
    await Promise.race([run, failed]);
    // Registrations still running finish, as in `pulumi up` after a failure.
    const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    if (errors.length === 0 && rejections.length === 0) await runtime.waitForRPCs?.();
    await waitUntil(() => inFlight === 0);
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (errors.length > 0 || rejections.length > 0) {
    // The first failure shows up again in every dependent's rejection and in the stack's outputs: keep it once.
    const causes = errors.filter((e) => !e.startsWith("program: ")).map((e) => e.slice(e.indexOf(": ") + 2));
    const echoes = (m: string) => causes.some((c) => m.includes(c));
    const rest = [...errors.filter((e) => e.startsWith("program: ")), ...rejections].filter(
      (m) => !echoes(m),
    );
    throw new ProgramFailedError(
      [...errors.filter((e) => !e.startsWith("program: ")), ...new Set(rest)],
      steps,
    );
  }

  const declared = new Set(steps.map((s) => s.urn));
  for (const d of await opts.engine.deleteUndeclared(declared, { preview: opts.preview })) {
    const [, , type = "", name = ""] = d.urn.split("::");
    const step: HostStep = { ...d, type, name, start: performance.now(), end: performance.now() };
    steps.push(step);
    opts.onStep?.(step);
  }
  return {
    steps,
    outputs,
    calls: opts.engine.callsSince(mark),
    seconds: (performance.now() - started) / 1000,
  };
}
