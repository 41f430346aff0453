/**
 * The DPU lab simulator: Redfish BMCs, DPUs with real sshd in network namespaces, image server and
 * control API. Start one with {@link startLab}.
 */
export * from "./contracts";
export {
  createNamespaceDpu,
  DPU_SHELLS,
  type DpuShell,
  LAB_SHELL_ENV,
  type NamespaceDpu,
  type NamespaceDpuOptions,
} from "./dpu";
export {
  type ControlDpuState,
  cleanStaleSlots,
  type Lab,
  type LabDpu,
  type LabOptions,
  type LabProfile,
  LIGHT_LAB_LIMITS,
  type LightLab,
  type LightLabOptions,
  LOCK_DIR,
  MAX_DPUS,
  MAX_SLOTS,
  startLab,
  startLightLab,
} from "./lab";
