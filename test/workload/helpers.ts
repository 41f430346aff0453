import { readFileSync } from "node:fs";
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
