/** Lab orchestration: address plan, network, slots, control API and {@link startLab}. */
export { type DpuPlan, MAX_DPUS, MAX_SLOTS, type SlotPlan, slotPlan } from "./address-plan";
export { type ControlDpuState, type ControlServer, startControlServer } from "./control-server";
export { LIGHT_LAB_LIMITS, type LightLab, type LightLabOptions, startLightLab } from "./light-lab";
export { cleanStaleSlots, LOCK_DIR, type SlotLock } from "./slots";
export { type Lab, type LabDpu, type LabOptions, type LabProfile, startLab } from "./start-lab";
