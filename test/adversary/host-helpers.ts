import * as fs from "node:fs";
import { providerShim } from "../../sdk/provider-shim";
import type { Lab } from "../../simulator";
import { unavailable } from "../capabilities";
import {
  type EngineHost,
  makeProgramDir,
  type ProgramDir,
  type PropertyMap,
  type ResourceSpec,
  secret,
  serializeProvider,
  startEngineHost,
} from "../engine/harness";

/**
 * Why the DpuHost adversary tests that go through the real dynamic-provider host cannot run here, or undefined.
 * They need root (lab namespaces) and the built runtime (`dist/`, what `require("pulumi-dpu/provider")` loads;
 * `npm test` builds it first). With CI=true a missing prerequisite fails instead of skipping.
 */
export function engineLabUnavailable(): string | undefined {
  return unavailable("DpuHost adversary test", "lab", "dist");
}

/** The real host started like the engine does, configured with the lab's shared credentials. */
export interface HostEngine {
  readonly eh: EngineHost;
  readonly program: ProgramDir;
  readonly providerText: string;
  close(): Promise<void>;
}

/** Starts the dynamic-provider host for DpuHost against `lab` (BMC user, CA and SSH key in stack config). */
export async function startHostEngine(
  lab: Lab,
  project = "dpuadversary",
  serialized?: string,
): Promise<HostEngine> {
  const d0 = lab.endpoints.dpus[0];
  if (!d0) throw new Error("empty lab");
  const program = makeProgramDir(project);
  const providerText = serialized ?? (await serializeProvider(providerShim("dpuHost"))).text;
  const eh = await startEngineHost({
    programDir: program.dir,
    project,
    config: {
      "dpu:bmcUsername": d0.bmc.username,
      "dpu:bmcCaCert": fs.readFileSync(lab.caFile, "utf8"),
      "dpu:sshPrivateKey": fs.readFileSync(lab.sshPrivateKeyFile, "utf8"),
    },
    secretKeys: ["dpu:sshPrivateKey"],
  });
  return {
    eh,
    program,
    providerText,
    async close() {
      await eh.close();
      program.cleanup();
    },
  };
}

/** A DpuHost registration for DPU `index` of `lab`, as the SDK sends it (password a secret input). */
export function hostSpec(
  lab: Lab,
  providerText: string,
  name: string,
  index: number,
  imageName: string,
  bmcExtra: Record<string, unknown> = {},
  opts: { readonly verify?: boolean } = {},
): ResourceSpec {
  const d = lab.endpoints.dpus[index];
  if (!d) throw new Error(`no DPU ${index}`);
  const img = lab.endpoints.images.files.find((f) => f.name === imageName);
  if (!img) throw new Error(`lab has no image ${imageName}`);
  return {
    type: "pulumi-nodejs:dynamic/dpu:DpuHost",
    name,
    provider: providerText,
    inputs: {
      bmc: { endpoint: d.bmc.url, password: secret(d.bmc.password), retryBaseDelayMs: 50, ...bmcExtra },
      // verify: false leaves out sha256 and the SSH probe (no image download before the BMC is touched).
      image: { url: img.url, ...(opts.verify === false ? {} : { sha256: img.sha256 }), timeoutMs: 60_000 },
      ready: {
        timeoutMs: 60_000,
        ...(opts.verify === false
          ? {}
          : { ssh: { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username } }),
      },
    } as PropertyMap,
    customTimeouts: { create: 600, update: 600, delete: 300 },
  };
}

/** POSTs to the lab control API. */
export async function control(lab: Lab, p: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${lab.endpoints.control.url}${p}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${p}: HTTP ${res.status} ${await res.text()}`);
}

/** Polls `cond` every 25 ms until true; throws after `timeoutMs` naming `what`. */
export async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
