/** Redfish client used by DpuHost and the `inspect` CLI. Resource code reaches BMCs only through this module. */

export { withBmcLock } from "./bmc-lock";
export {
  type PatchOptions,
  type RedfishAuthMode,
  RedfishClient,
  type RedfishClientOptions,
  type RedfishResponse,
  type RequestOptions,
} from "./client";
export { RequestCounter } from "./counting";
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
export { retryAfterMs } from "./retry";
export { type TaskWaitOptions, taskUriOf, waitForTask } from "./tasks";
export {
  closeAllPools,
  type PoolSettings,
  poolFor,
  type RawRequest,
  type RawResponse,
  type RedfishLayer,
  type RedfishSend,
} from "./transport";
