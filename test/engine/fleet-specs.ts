import type { EndpointsFile } from "../../simulator";
import { type Json, type PropertyMap, type ResourceSpec, secret } from "./harness";

/** The serialized providers, one per resource type (what `__provider` holds). */
export interface ProviderTexts {
  readonly host: string;
  readonly underlay: string;
  readonly workload: string;
}

/** Knobs of the fleet program (the equivalent of editing examples/fleet/index.ts). */
export interface FleetKnobs {
  readonly image: string;
  readonly mtu: number;
  readonly workloadName: string;
  readonly greeting: string;
}

function imageOf(ep: EndpointsFile, name: string): { url: string; sha256: string } {
  const f = ep.images.files.find((i) => i.name === name);
  if (!f) throw new Error(`lab has no image ${name}`);
  return { url: f.url, sha256: f.sha256 };
}

/**
 * The hosts of the 3-DPU fleet, as the SDK would register them: the BMC user name and the SSH key come from
 * the stack config (`dpu:`); each BMC's password is a per-resource secret input (the SDK wraps it).
 */
export function hostSpecs(ep: EndpointsFile, texts: ProviderTexts, knobs: FleetKnobs): ResourceSpec[] {
  return ep.dpus.map((d) => ({
    type: "pulumi-nodejs:dynamic/dpu:DpuHost",
    name: `${d.name}-host`,
    provider: texts.host,
    inputs: {
      bmc: { endpoint: d.bmc.url, password: secret(d.bmc.password), retryBaseDelayMs: 50 },
      image: { ...imageOf(ep, knobs.image), timeoutMs: 60_000 },
      ready: { timeoutMs: 60_000, ssh: { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username } },
    } as PropertyMap,
    customTimeouts: { create: 2400, update: 2400, delete: 600 },
  }));
}

function connection(d: EndpointsFile["dpus"][number], hostKey: Json): PropertyMap {
  return {
    host: d.ssh.host,
    port: d.ssh.port,
    username: d.ssh.username,
    hostKey,
    dialAttempts: 5,
    dialTimeoutMs: 5000,
  };
}

/**
 * Underlays and workloads, connected with the host key each DpuHost pinned (a re-image changes it), the data
 * dependency DpuNode wires.
 */
export function nodeSpecs(
  ep: EndpointsFile,
  texts: ProviderTexts,
  knobs: FleetKnobs,
  hostKeys: readonly string[],
): ResourceSpec[] {
  const underlays: ResourceSpec[] = ep.dpus.map((d, i) => ({
    type: "pulumi-nodejs:dynamic/dpu:DpuUnderlay",
    name: `${d.name}-underlay`,
    provider: texts.underlay,
    inputs: {
      connection: connection(d, hostKeys[i] ?? null),
      interfaces: [{ name: "p0", mtu: knobs.mtu, addresses: [`198.19.7.${i + 1}/24`] }],
      safety: { rollbackAfterSeconds: 20 },
    } as PropertyMap,
  }));
  const workloads: ResourceSpec[] = ep.dpus.map((d, i) => ({
    type: "pulumi-nodejs:dynamic/dpu:DpuWorkload",
    name: `${d.name}-agent`,
    provider: texts.workload,
    inputs: {
      connection: connection(d, hostKeys[i] ?? null),
      name: knobs.workloadName,
      runtime: "process",
      command: ["sleep 0.2; touch /tmp/agent.ready; exec sleep 600"],
      shell: true,
      env: { GREETING: knobs.greeting },
      secretEnv: secret({ AGENT_TOKEN: "agent-token-Qx7" }),
      health: { command: ["test", "-e", "/tmp/agent.ready"], intervalMs: 200, retries: 25 },
    } as PropertyMap,
    additionalSecretOutputs: ["secretEnv"],
  }));
  return [...underlays, ...workloads];
}
