import { KeyedMutex } from "../lifecycle/keyed-mutex";

/**
 * The per-BMC lock of this process. It is not part of the Redfish client: a client sends requests, while the
 * lock orders whole operations (a boot override set by one operation and a reset by another would interleave
 * badly), so resource code takes it around an operation.
 */
const bmcLocks = new KeyedMutex();

/**
 * Runs `fn` while holding the lock of the BMC at `endpoint` (keyed by its origin): two operations of this
 * process never race on one BMC; operations on different BMCs run in parallel.
 */
export function withBmcLock<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  return bmcLocks.run(new URL(endpoint).origin, fn);
}
