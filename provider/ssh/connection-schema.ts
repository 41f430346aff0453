import { z } from "zod";
import { stackDefaults } from "../config";
import { secretPaths } from "../lifecycle/field-meta";
import { HOST_KEY_PATTERN } from "./host-key-pattern";
import type { SshEndpoint, SshTarget } from "./types";

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Host name or IP literal (IPv4, IPv6 without brackets). */
const hostField = z
  .string()
  .min(1, "host is required")
  .refine((h) => HOSTNAME.test(h) || z.ipv4().safeParse(h).success || z.ipv6().safeParse(h).success, {
    message: "must be a host name, an IPv4 address or an IPv6 address (without brackets)",
  })
  .describe("Host name or IP address of the SSH server.");

const endpointShape = {
  host: hostField,
  port: z.number().int().min(1).max(65535).default(22).describe("TCP port of the SSH server (default 22)."),
  username: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, "must be a POSIX user name (letters, digits, _ . -, at most 32)")
    .optional()
    .describe(
      "Login user (default: the stack's `dpu:sshUsername`, else `root`). Non-root users need `sudo: true` for privileged changes.",
    )
    .meta({ noHardwareAction: true }),
  privateKey: z
    .string()
    .min(1)
    .optional()
    .describe("Private key (OpenSSH or PEM). Secret: marked secret in state, never logged.")
    .meta({ secret: true, noHardwareAction: true }),
  passphrase: z
    .string()
    .optional()
    .describe("Passphrase of the private key. Secret.")
    .meta({ secret: true, noHardwareAction: true }),
  password: z
    .string()
    .optional()
    .describe("Password, when no key is used. Secret.")
    .meta({ secret: true, noHardwareAction: true }),
  hostKey: z
    .string()
    .regex(HOST_KEY_PATTERN, "must be `SHA256:<base64>` (as `ssh-keygen -lf` prints) or a public key line")
    .optional()
    .describe(
      "Pinned host key. A mismatch is a hard error. Leave unset only on lab networks: the first key seen is then trusted.",
    )
    .meta({ noHardwareAction: true }),
};

/** A jump host (bastion). */
export const SshJumpHostSchema = z
  .strictObject(endpointShape)
  .refine((e) => e.privateKey !== undefined || e.password !== undefined, {
    message: "set privateKey or password for the jump host",
  })
  .describe("A bastion the connection goes through.");

/** The `connection` input shared by DpuUnderlay and DpuWorkload. */
export const SshConnectionSchema = z
  .strictObject({
    ...endpointShape,
    // Another SSH endpoint is another DPU, hence another resource (a jump host's endpoint is not).
    host: endpointShape.host.meta({ replaceOnChange: true }),
    port: endpointShape.port.meta({ replaceOnChange: true }),
    jumpHosts: z
      .array(SshJumpHostSchema)
      .max(8)
      .default([])
      .describe("Bastions to go through, outermost first. Secret in state (they hold credentials).")
      .meta({ secret: true, noHardwareAction: true }),
    dialAttempts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe("How many times to try connecting before failing (default 10); a rebooting DPU is normal.")
      .meta({ noHardwareAction: true }),
    dialTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(15_000)
      .describe("Timeout of one connection attempt in ms (default 15000).")
      .meta({ noHardwareAction: true }),
    keepaliveIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(15_000)
      .describe("SSH keepalive interval in ms (default 15000, 0 disables).")
      .meta({ noHardwareAction: true }),
    sudo: z
      .boolean()
      .default(false)
      .describe("Run privileged commands through `sudo -n` (for non-root users).")
      .meta({ noHardwareAction: true }),
  })
  // configure() runs before check() in the provider process, so the stack defaults are known here.
  .refine(
    (e) =>
      e.privateKey !== undefined ||
      e.password !== undefined ||
      stackDefaults().sshPrivateKey !== undefined ||
      stackDefaults().sshPassword !== undefined,
    {
      message: "set privateKey or password, or set dpu:sshPrivateKey (secret) in the stack config",
      path: ["privateKey"],
    },
  )
  .describe("How to reach the DPU over SSH.");

/** Parsed connection input. */
export type SshConnection = z.output<typeof SshConnectionSchema>;

/** Secret fields of an SSH endpoint (relative to it), derived from the fields' `.meta({ secret: true })`. */
export const SSH_SECRET_FIELDS: readonly string[] = secretPaths(SshJumpHostSchema);

function endpoint(c: z.output<typeof SshJumpHostSchema>): SshEndpoint {
  return {
    host: c.host,
    port: c.port,
    username: c.username ?? "root",
    ...(c.privateKey !== undefined ? { privateKey: c.privateKey } : {}),
    ...(c.passphrase !== undefined ? { passphrase: c.passphrase } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.hostKey !== undefined ? { hostKey: c.hostKey } : {}),
  };
}

/**
 * Fills the stack-wide defaults (`dpu:sshUsername`, `dpu:sshPrivateKey`, `dpu:sshPassword`) into a parsed
 * connection, in memory only: the result must never be returned as inputs or outputs.
 */
export function withStackDefaults(c: SshConnection): SshConnection {
  const d = stackDefaults();
  const hasCredential = c.privateKey !== undefined || c.password !== undefined;
  return {
    ...c,
    username: c.username ?? d.sshUsername ?? "root",
    ...(!hasCredential && d.sshPrivateKey !== undefined ? { privateKey: d.sshPrivateKey } : {}),
    ...(!hasCredential && d.sshPrivateKey === undefined && d.sshPassword !== undefined
      ? { password: d.sshPassword }
      : {}),
  };
}

/** Converts the parsed input into the transport's target, stack defaults applied. */
export function toSshTarget(input: SshConnection): SshTarget {
  const c = withStackDefaults(input);
  return {
    ...endpoint(c),
    jumpHosts: c.jumpHosts.map(endpoint),
    dialAttempts: c.dialAttempts,
    dialTimeoutMs: c.dialTimeoutMs,
    keepaliveIntervalMs: c.keepaliveIntervalMs,
    sudo: c.sudo,
  };
}
