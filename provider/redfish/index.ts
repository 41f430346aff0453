/** Redfish client used by DpuHost and the `inspect` CLI. Resource code reaches BMCs only through this module. */
export {
  type PatchOptions,
  type RedfishAuthMode,
  RedfishClient,
  type RedfishClientOptions,
  type RedfishResponse,
  type RequestOptions,
  retryAfterMs,
  withBmcLock,
} from "./client";
export {
  allowable,
  type BmcCapabilities,
  type BootMethod,
  type DiscoverOptions,
  discover,
  methodsOf,
  type VirtualMediaSlot,
} from "./discovery";
export { BUSY_MESSAGE_IDS, type Json, messageIdIs, parseErrorBody, RedfishTaskError } from "./messages";
export {
  bootPath,
  clearBootOverride,
  ejectMedia,
  insertMedia,
  type OpOptions,
  osRunning,
  type PowerState,
  parseSystem,
  readSlot,
  readSystem,
  resetSystem,
  type SystemState,
  sameImage,
  setBootOnce,
  simpleUpdate,
} from "./operations";
export { type TaskWaitOptions, taskUriOf, waitForTask } from "./tasks";
export { closeAllPools, type PoolSettings, poolFor } from "./transport";
