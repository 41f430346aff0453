/**
 * pulumi-dpu: declare DPU fleets in Pulumi (TypeScript).
 *
 * Resources (dynamic providers, type tokens `pulumi-nodejs:dynamic/dpu:*`): {@link DpuHost}, {@link DpuUnderlay},
 * {@link DpuWorkload}. Components: {@link DpuNode}, {@link DpuFleet}. Stack-wide defaults come from the `dpu:`
 * config namespace (`dpu:bmcUsername`, `dpu:bmcPassword`, `dpu:sshPrivateKey`, …).
 */
export { DPU_FLEET_TYPE, DpuFleet, type DpuFleetArgs, type DpuFleetRow, type FleetWave } from "./dpu-fleet";
export { DPU_HOST_TIMEOUTS, DPU_HOST_TYPE, DpuHost, type DpuHostArgs } from "./dpu-host";
export { DPU_NODE_TYPE, DpuNode, type DpuNodeArgs } from "./dpu-node";
export { DPU_UNDERLAY_TIMEOUTS, DPU_UNDERLAY_TYPE, DpuUnderlay, type DpuUnderlayArgs } from "./dpu-underlay";
export { DPU_WORKLOAD_TIMEOUTS, DPU_WORKLOAD_TYPE, DpuWorkload, type DpuWorkloadArgs } from "./dpu-workload";
// Every nested input (`…Args`) and state (`…State`) type, generated from the zod schemas with TSDoc.
export {
  type DpuFleetIdentity,
  type DpuRowIdentity,
  identityFromRow,
} from "./fleet-identity";
export type * from "./generated/types";
export type { DeepInput, DeepInputObject } from "./input-types";
export {
  type DpuInventoryEntry,
  type InventoryValue,
  loadInventoryFile,
  parseCsv,
  validateInventory,
} from "./inventory";
export type { NodeConnectionArgs, NodeHostArgs, NodeReadySshArgs, NodeStepArgs } from "./node-connections";
export { PROVIDER_MODULE, providerShim } from "./provider-shim";
export { planWaves, type ResolvedRollout, type RolloutPolicy, resolveRollout } from "./waves";
