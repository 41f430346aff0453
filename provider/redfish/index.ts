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
  type Discovered,
  type DiscoverOptions,
  describeSystems,
  discover,
  discoverWithSystem,
  methodsOf,
  parseSlot,
  readFirmwareVersion,
  type SystemSummary,
  type VirtualMediaSlot,
} from "./discovery";
export {
  capabilitiesFromKept,
  isKeptCapabilities,
  type KeptCapabilities,
  keepCapabilities,
} from "./kept-capabilities";
export {
  BUSY_MESSAGE_IDS,
  bmcWords,
  type Json,
  messageIdIs,
  parseErrorBody,
  RedfishTaskError,
} from "./messages";
export {
  bootPath,
  clearBootOverride,
  ejectMedia,
  insertMedia,
  mediaShows,
  type OpOptions,
  osRunning,
  overrideIsOurs,
  overrideTargetOf,
  type PowerState,
  parseSystem,
  readSlot,
  readSlotFresh,
  readSystem,
  resetSystem,
  type SystemState,
  sameImage,
  setBootOnce,
  showsImage,
  simpleUpdate,
  simpleUpdateRefusal,
  simpleUpdateSource,
  transferProtocolOf,
} from "./operations";
export { type TaskWaitOptions, taskUriOf, waitForTask } from "./tasks";
export { closeAllPools, type PoolSettings, poolFor } from "./transport";
