/** The simulated Redfish BMC of the DPU lab: one HTTPS Redfish service per DPU. */
export { type MixedCycle, mixedProfiles } from "./capture/mixed";
export type { QuirkTiming } from "./capture/model";
export { QUIRK_PROFILES, type QuirkProfileSpec, type QuirkSwitches } from "./capture/quirks";
export type { TreeEdit } from "./capture/tree-edit";
export { type CreateBmcOptions, createBmc } from "./create-bmc";
export { BASE_REGISTRY_PREFIX, MESSAGES, type MessageKey } from "./errors";
