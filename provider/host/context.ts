import { stackDefaults } from "../config";
import { ValidationError } from "../errors/validation-error";
import { registerSchemaSecrets } from "../lifecycle/field-meta";
import { registerSecret, registerUrlSecrets } from "../log";
import { RedfishClient } from "../redfish";
import { pemCertificateProblem } from "../redfish/tls";
import type { SshTarget } from "../ssh";
import { type DpuHostInputs, DpuHostInputsSchema } from "./inputs.schema";
import { hostTransports } from "./transports";

/** BMC credentials after stack defaults (in memory only; never written back into inputs or outputs). */
export interface BmcCredentials {
  readonly username: string;
  readonly password: string;
  readonly caCert?: string;
}

/** Registers every secret of `inputs` (and stack defaults) for redaction. Call first in every operation. */
export function registerInputSecrets(inputs: DpuHostInputs & { installedImage?: { url?: string } }): void {
  // What the schema's field metadata marks: passwords, the probe key, credentials in image.url and bmc.endpoint.
  registerSchemaSecrets(DpuHostInputsSchema, inputs);
  // The installed image's URL (an output) may carry the credentials of an earlier image.url.
  registerUrlSecrets(inputs.installedImage?.url);
}

/** Resolves the BMC credentials, falling back to `dpu:bmc*` stack config. */
export function bmcCredentials(inputs: DpuHostInputs): BmcCredentials {
  const d = stackDefaults();
  const username = inputs.bmc.username ?? d.bmcUsername;
  const password = inputs.bmc.password ?? d.bmcPassword;
  const caCert = inputs.bmc.caCert ?? d.bmcCaCert;
  const caProblem = caCert ? pemCertificateProblem(caCert) : undefined;
  const problems = [
    ...(caProblem
      ? [
          {
            property: inputs.bmc.caCert ? "bmc.caCert" : "dpu:bmcCaCert",
            reason: `${inputs.bmc.caCert ? "bmc.caCert" : "the stack config dpu:bmcCaCert"} ${caProblem}`,
          },
        ]
      : []),
    ...(username
      ? []
      : [{ property: "bmc.username", reason: "set bmc.username or the stack config dpu:bmcUsername" }]),
    ...(password
      ? []
      : [
          {
            property: "bmc.password",
            reason: "set bmc.password or the stack config dpu:bmcPassword (secret)",
          },
        ]),
  ];
  if (problems.length > 0 || !username || !password) throw new ValidationError("DpuHost", problems);
  registerSecret(password);
  return { username, password, ...(caCert ? { caCert } : {}) };
}

/**
 * A Redfish client for the DPU's BMC. In `auto` mode it authenticates with HTTP Basic and opens a session only
 * when Basic is refused: DSP0266 (§13.3) requires services to support both, and AccountService.HTTPBasicAuth,
 * where a service can turn Basic off, "shall be assumed to be Enabled" when absent. Basic costs no login and
 * logout round trips, and leaves nothing open on the BMC: a provider killed mid-operation leaks no session
 * towards the BMC's session limit. `bmc.auth: session` forces a session. The client's transport carries the
 * Redfish layers the provider instance was created with (provider/host/transports.ts).
 */
export function bmcClient(inputs: DpuHostInputs): RedfishClient {
  const c = bmcCredentials(inputs);
  return new RedfishClient({
    endpoint: inputs.bmc.endpoint,
    username: c.username,
    password: c.password,
    ...(c.caCert ? { caCert: c.caCert } : {}),
    insecureSkipVerify: inputs.bmc.insecureSkipVerify,
    auth: inputs.bmc.auth,
    preferBasic: true,
    requestTimeoutMs: inputs.bmc.requestTimeoutMs,
    retryAttempts: inputs.bmc.retryAttempts,
    retryBaseDelayMs: inputs.bmc.retryBaseDelayMs,
    layers: hostTransports().redfishLayers,
  });
}

/** The SSH probe target, or undefined when `ready.ssh` is not set. `pinned` is the fingerprint to enforce. */
export function sshTargetOf(
  inputs: DpuHostInputs,
  pinned: string | undefined,
  dialAttempts = 1,
): SshTarget | undefined {
  const p = inputs.ready.ssh;
  if (!p) return undefined;
  const d = stackDefaults();
  const privateKey = p.privateKey ?? d.sshPrivateKey;
  if (!privateKey) {
    throw new ValidationError("DpuHost", [
      {
        property: "ready.ssh.privateKey",
        reason: "set ready.ssh.privateKey or the stack config dpu:sshPrivateKey (secret)",
      },
    ]);
  }
  registerSecret(privateKey);
  const hostKey = p.hostKey ?? pinned;
  return {
    host: p.host,
    port: p.port,
    username: p.username,
    privateKey,
    ...(hostKey ? { hostKey } : {}),
    jumpHosts: [],
    dialAttempts,
    dialTimeoutMs: 10_000,
    keepaliveIntervalMs: 15_000,
    sudo: false,
  };
}

/** Stable id of a DpuHost: BMC origin + system path. */
export function dpuHostId(endpoint: string, systemPath: string): string {
  return `${new URL(endpoint).origin}${systemPath}`;
}
