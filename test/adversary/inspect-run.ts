import { vi } from "vitest";
import { inspect } from "../../cli/inspect";

/** What one `pulumi-dpu inspect` run gave: its exit code, standard output and standard error. */
export interface InspectRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs the CLI's `inspect` in this process with `args`, the variables of `env` set for the run only; returns its
 * exit code, stdout and stderr. It closes every Redfish pool of the process when it ends.
 */
export async function runInspect(args: readonly string[], env: Record<string, string>): Promise<InspectRun> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => {
    err += String(c);
    return true;
  });
  Object.assign(process.env, env);
  try {
    const code = await inspect(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    for (const k of Object.keys(env)) delete process.env[k];
  }
}
