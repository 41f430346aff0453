import { AsyncLocalStorage } from "node:async_hooks";
import type { RedfishLayer } from "../redfish";
import { type SshConnector, sshPool } from "../ssh";

/** The transports a DpuHost provider instance was given (see `createDpuHostProvider`). */
export interface DpuHostTransports {
  /** SSH connector of the readiness probe (`ready.ssh`). */
  readonly ssh: SshConnector;
  /** Layers around the transport of every BMC client (request counting, recording), outermost first. */
  readonly redfishLayers: readonly RedfishLayer[];
}

/** The transports of a provider created without options: the shared SSH pool, no Redfish layers. */
export const defaultHostTransports: DpuHostTransports = { ssh: sshPool, redfishLayers: [] };

const scope = new AsyncLocalStorage<DpuHostTransports>();

/**
 * Runs one provider operation with `t` as its transports: the BMC clients and SSH probes it opens, however
 * deep, use them. Scoped to the operation's async context, so two provider instances in one process (a bench's
 * counted one and the default) never see each other's transports.
 */
export function withHostTransports<T>(t: DpuHostTransports, fn: () => Promise<T>): Promise<T> {
  return scope.run(t, fn);
}

/** The transports of the operation in progress ({@link defaultHostTransports} outside any). */
export function hostTransports(): DpuHostTransports {
  return scope.getStore() ?? defaultHostTransports;
}
