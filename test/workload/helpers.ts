import { readFileSync } from "node:fs";
import type { SshPool, SshSession } from "../../provider/ssh";
import type { EndpointsFile } from "../../simulator/contracts";
import { unavailable } from "../capabilities";

/** Why the lab cannot run here, or `undefined`. Under CI a missing prerequisite fails instead of skipping. */
export function labUnavailable(): string | undefined {
  return unavailable("workload lab tests", "lab");
}

/** The `connection` input for one lab DPU. */
export function connectionFor(ep: EndpointsFile, index = 0, pinHostKey = true): Record<string, unknown> {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index} in the lab`);
  return {
    host: d.ssh.host,
    port: d.ssh.port,
    username: d.ssh.username,
    privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
    ...(pinHostKey ? { hostKey: d.ssh.hostKeyFingerprint } : {}),
    dialAttempts: 3,
    dialTimeoutMs: 5000,
  };
}

export { CountingConnector } from "../ssh/counting-connector";

/** A root SSH session to DPU `index` of the lab through `pool` (tests read and change the DPU's files with it). */
export function rootSession(pool: SshPool, ep: EndpointsFile, index = 0): Promise<SshSession> {
  const c = connectionFor(ep, index);
  return pool.session({
    host: c.host as string,
    port: c.port as number,
    username: "root",
    privateKey: c.privateKey as string,
    jumpHosts: [],
    dialAttempts: 3,
    dialTimeoutMs: 5000,
    keepaliveIntervalMs: 0,
    sudo: false,
  });
}
