/**
 * SSH transport of the provider: ssh2 connections pooled per endpoint, host-key pinning, jump hosts, dial
 * retries, per-command timeouts and output limits, quoting that no input can escape, atomic SFTP writes.
 * Resource code uses {@link sshPool} (or a connector from {@link createSshConnector}) and never ssh2 itself.
 */
export {
  SSH_SECRET_FIELDS,
  type SshConnection,
  SshConnectionSchema,
  SshJumpHostSchema,
  toSshTarget,
} from "./connection-schema";
export { fingerprintOf, pinnedFingerprint } from "./fingerprint";
export { endpointLabel } from "./label";
export { createSshConnector, poolKey, SshPool, sshPool } from "./pool";
export { quoteArg, shellQuote, withSudo } from "./quote";
export { isTransientDialError } from "./transient";
export type {
  ExecOptions,
  ExecResult,
  SshConnector,
  SshEndpoint,
  SshSession,
  SshTarget,
} from "./types";
