/** The simulated Redfish BMC of the DPU lab: one HTTPS Redfish service per DPU. */
export { type CreateBmcOptions, createBmc } from "./create-bmc";
export { BASE_REGISTRY_PREFIX, MESSAGES, type MessageKey } from "./errors";
