import * as pulumi from "@pulumi/pulumi";

/** One resource registration seen by the mocks. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly start: number;
  readonly end: number;
  readonly failed: boolean;
}

/** Options of {@link installRecordingMocks}. */
export interface RecorderOptions {
  /** Simulated provisioning time per custom resource (ms). */
  readonly delayMs?: (type: string, name: string) => number;
  /** Names whose registration fails (as a failed create would, with `--continue-on-error`). */
  readonly failNames?: readonly string[];
  /** Outputs to add per resource. */
  readonly outputs?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;
  readonly preview?: boolean;
}

/**
 * Installs `pulumi.runtime.setMocks` with a `newResource` that records every registration with start and end
 * timestamps (so tests can prove ordering), waits `delayMs`, and fails the names in `failNames`.
 */
export async function installRecordingMocks(opts: RecorderOptions = {}): Promise<Registration[]> {
  const log: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const start = performance.now();
        const delay = opts.delayMs?.(args.type, args.name) ?? 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        const failed = opts.failNames?.includes(args.name) ?? false;
        log.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          start,
          end: performance.now(),
          failed,
        });
        if (failed) throw new Error(`mock: ${args.name} failed to provision`);
        const extra = opts.outputs?.(args.type, args.name, args.inputs) ?? {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call: () => ({}),
    },
    "dpufleet",
    "test",
    opts.preview ?? false,
  );
  return log;
}

/** Resolves an Output's value in tests (undefined when unknown). */
export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/**
 * Captures unhandled rejections while `fn` runs and for `settleMs` after. The Pulumi Node runtime reports each
 * as a logged error (the dependents of a failed resource fail to register); under vitest they would fail the
 * run, so tests capture them and assert what they say instead.
 */
export async function withCapturedRejections<T>(
  fn: () => Promise<T>,
  settleMs = 100,
): Promise<{ result: T; rejections: string[] }> {
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const rejections: string[] = [];
  const onRejection = (e: unknown) => {
    rejections.push(e instanceof Error ? e.message : String(e));
  };
  process.on("unhandledRejection", onRejection);
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, settleMs));
    return { result, rejections };
  } finally {
    process.off("unhandledRejection", onRejection);
    for (const l of saved) process.on("unhandledRejection", l);
  }
}
