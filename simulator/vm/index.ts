/** The real-VM DPU backend: QEMU (TCG by default) booting the DPU OS ISO that build-image.sh makes. */
export { downloadFile } from "./fetch-iso";
export {
  buildScriptPath,
  type EnsureVmImageOptions,
  ensureVmImage,
  VM_IMAGE_CACHE,
  VM_IMAGE_LABEL,
  type VmImage,
  vmImageInputsHash,
} from "./image-build";
export { CONTROL_PORT, NIC_SLOTS, type QemuArgsInput, qemuArgs, type VmFirmware } from "./qemu-args";
export { connectQmp, type QmpClient, type QmpEvent } from "./qmp";
export {
  createVmDpu,
  type VmBootStage,
  type VmBootTiming,
  type VmDpu,
  type VmDpuOptions,
} from "./vm-dpu";

/** Name of the DPU OS ISO on a lab's image server. */
export const VM_IMAGE_FILE = "dpu-os-vm.iso";
