/** The DPU operating-system backend: a network namespace with real sshd (see {@link createNamespaceDpu}). */
export { createNamespaceDpu, type NamespaceDpu, type NamespaceDpuOptions } from "./namespace-dpu";
export { fingerprintOf, osRelease, versionFromLabel } from "./os-files";
export {
  DEFAULT_DPU_SHELL,
  DPU_SHELLS,
  type DpuShell,
  isDpuShell,
  LAB_SHELL_ENV,
  labShellFromEnv,
} from "./os-shell";
