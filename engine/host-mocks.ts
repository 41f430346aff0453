import * as pulumi from "@pulumi/pulumi";
import type { FakeEngine, StepResult } from "./fake-engine";
import { isSecret, type Json, type PropertyMap, UNKNOWN } from "./wire";

/** The mocks hand unknowns (preview) over as `{__pulumiUnknown: true}`; the engine sends the sentinel string. */
function toWire(v: unknown): Json {
  if (Array.isArray(v)) return v.map(toWire);
  if (v !== null && typeof v === "object") {
    if ((v as { __pulumiUnknown?: boolean }).__pulumiUnknown === true) return UNKNOWN;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, toWire(x)]),
    );
  }
  return v as Json;
}

/** One registration that went through the real host, with its timing. */
export interface HostStep extends StepResult {
  readonly type: string;
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** Options of {@link installHostMocks}. */
export interface HostMocksOptions {
  readonly project: string;
  /** Stack name (default `test`). */
  readonly stack?: string;
  /** `pulumi preview`: Check and Diff only. */
  readonly preview?: boolean;
  /** Called when a dynamic resource's registration starts (before Check). */
  readonly onStart?: (type: string, name: string) => void;
  /** Called when a dynamic resource's step finished. */
  readonly onStep?: (step: HostStep) => void;
  /** Called when a dynamic resource's step failed (the registration then fails, as in `pulumi up`). */
  readonly onError?: (type: string, name: string, error: unknown) => void;
}

/**
 * Installs `pulumi.runtime.setMocks` whose `newResource` sends every dynamic-provider resource through the
 * fake engine to the real dynamic-provider host (Check, then Create or Diff/Update…, with the engine's
 * secret and preview rules), so a program runs its real providers. Components are recorded and echoed.
 * Resolves to the list the steps are appended to as they finish.
 */
export async function installHostMocks(engine: FakeEngine, opts: HostMocksOptions): Promise<HostStep[]> {
  const steps: HostStep[] = [];
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (!args.type.startsWith("pulumi-nodejs:dynamic/")) return { id: "", state: args.inputs };
        opts.onStart?.(args.type, args.name);
        try {
          const { __provider, ...inputs } = toWire(args.inputs) as Record<string, Json>;
          const provider = isSecret(__provider) ? __provider.value : __provider;
          if (typeof provider !== "string") throw new Error(`${args.name}: no __provider`);
          const start = performance.now();
          const res = await engine.register(
            { type: args.type, name: args.name, inputs: inputs as PropertyMap, provider },
            { preview: opts.preview ?? false },
          );
          const step: HostStep = { ...res, type: args.type, name: args.name, start, end: performance.now() };
          steps.push(step);
          opts.onStep?.(step);
          return { id: res.id ?? "", state: res.outputs };
        } catch (e) {
          opts.onError?.(args.type, args.name, e);
          throw e;
        }
      },
      call: () => ({}),
    },
    opts.project,
    opts.stack ?? "test",
    opts.preview ?? false,
  );
  return steps;
}

/**
 * Resolves when an Output settles: its value, or undefined when it is unknown (preview) or failed. Uses the
 * Output's internal `promise(withUnknowns)`, since `apply` callbacks never run on unknown values.
 */
export async function settle<T>(o: pulumi.Output<T>): Promise<T | undefined> {
  const internal = o as unknown as { promise(withUnknowns?: boolean): Promise<T> };
  try {
    const v = await internal.promise(true);
    return (v as unknown as { __pulumiUnknown?: boolean })?.__pulumiUnknown ? undefined : v;
  } catch {
    return undefined;
  }
}
