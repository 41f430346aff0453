/**
 * Lab helpers for the benchmarks: inputs of the three resources for a lab DPU, the control API, request and
 * round-trip counters. Library code only (provider/, simulator/): benchmarks never import test helpers.
 */
import { readFileSync } from "node:fs";
import { type DpuHostInputs, DpuHostInputsSchema } from "../provider/resources/dpu-host";
import type { SshConnector, SshSession, SshTarget } from "../provider/ssh/types";
import type { ControlDpuState, EndpointsFile } from "../simulator";

/** One DPU of an endpoints file. */
export type LabDpuEndpoints = EndpointsFile["dpus"][number];

/** Image info of the lab by file name. */
export function labImage(ep: EndpointsFile, name: string): { url: string; sha256: string } {
  const f = ep.images.files.find((i) => i.name === name);
  if (!f) throw new Error(`lab has no image ${name}; has ${ep.images.files.map((i) => i.name).join(", ")}`);
  return { url: f.url, sha256: f.sha256 };
}

/** Options of {@link hostInputs}. */
export interface HostInputOptions {
  readonly method?: "virtualMedia" | "uefiHttp" | "simpleUpdate";
  /** Add the SSH readiness probe (default true). */
  readonly ssh?: boolean;
  readonly readyTimeoutMs?: number;
  /** Redfish retry attempts (default: the schema's 5). */
  readonly retryAttempts?: number;
  /** Declare the image's sha256 (the provider downloads and verifies it first). Default true. */
  readonly verify?: boolean;
}

/** DpuHost inputs for DPU `index` of the lab, installing `imageName`. */
export function hostInputs(
  ep: EndpointsFile,
  index: number,
  imageName: string,
  o: HostInputOptions = {},
): DpuHostInputs {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index}`);
  const img = labImage(ep, imageName);
  return DpuHostInputsSchema.parse({
    bmc: {
      endpoint: d.bmc.url,
      username: d.bmc.username,
      password: d.bmc.password,
      caCert: readFileSync(d.bmc.caCertFile, "utf8"),
      retryBaseDelayMs: 50,
      ...(o.retryAttempts !== undefined ? { retryAttempts: o.retryAttempts } : {}),
    },
    image: {
      url: img.url,
      ...(o.verify === false ? {} : { sha256: img.sha256 }),
      ...(o.method ? { method: o.method } : {}),
      timeoutMs: 60_000,
    },
    ready: {
      timeoutMs: o.readyTimeoutMs ?? 45_000,
      ...(o.ssh === false
        ? {}
        : {
            ssh: {
              host: d.ssh.host,
              port: d.ssh.port,
              username: d.ssh.username,
              privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
            },
          }),
    },
  });
}

/** The `connection` input (DpuUnderlay, DpuWorkload) of a lab DPU, host key pinned. */
export function connectionOf(d: LabDpuEndpoints): Record<string, unknown> {
  return {
    host: d.ssh.host,
    port: d.ssh.port,
    username: d.ssh.username,
    privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
    hostKey: d.ssh.hostKeyFingerprint,
  };
}

/** POSTs to the lab control API; rejects on a non-2xx answer. */
export async function control(ep: EndpointsFile, path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${ep.control.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** `GET /state` of the control API. */
export async function labState(ep: EndpointsFile): Promise<ControlDpuState[]> {
  const res = await fetch(`${ep.control.url}/state`);
  if (!res.ok) throw new Error(`control /state: HTTP ${res.status}`);
  return ((await res.json()) as { dpus: ControlDpuState[] }).dpus;
}

/** Redfish requests every BMC of the lab has served so far (sum over methods and BMCs). */
export async function redfishRequestsServed(ep: EndpointsFile): Promise<number> {
  let n = 0;
  for (const d of await labState(ep)) for (const v of Object.values(d.bmc.requests)) n += v;
  return n;
}

/** Wraps a connector, counting remote round trips (exec, run, SFTP write) through it. */
export class CountingConnector implements SshConnector {
  /** Round trips so far. */
  trips = 0;
  constructor(
    private readonly inner: SshConnector,
    private readonly open: (t: SshTarget) => Promise<SshSession> = (t) => inner.session(t),
  ) {}

  /** Wraps `s` so its round trips count here. */
  wrap(s: SshSession): SshSession {
    const bump = <T>(p: Promise<T>): Promise<T> => {
      this.trips++;
      return p;
    };
    return {
      label: s.label,
      get hostKeyFingerprint() {
        return s.hostKeyFingerprint;
      },
      exec: (a, o) => bump(s.exec(a, o)),
      run: (a, o) => bump(s.run(a, o)),
      writeFileAtomic: (p, d, m) => bump(s.writeFileAtomic(p, d, m)),
    };
  }

  async session(t: SshTarget): Promise<SshSession> {
    return this.wrap(await this.open(t));
  }
  invalidate(t: SshTarget): void {
    this.inner.invalidate(t);
  }
  closeAll(): Promise<void> {
    return this.inner.closeAll();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; collects errors instead of stopping. */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<{ results: (R | undefined)[]; errors: { index: number; error: unknown }[] }> {
  const results: (R | undefined)[] = new Array(items.length);
  const errors: { index: number; error: unknown }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        errors.push({ index: i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { results, errors };
}

/** Percentile (0..100) of `values` (nearest rank); 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
