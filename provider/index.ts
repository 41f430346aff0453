/**
 * The pulumi-dpu provider runtime: `require("pulumi-dpu/provider")`.
 *
 * Each export is a `pulumi.dynamic.ResourceProvider`. The SDK's resource classes serialize only a tiny shim that
 * requires this module at run time (from the Pulumi program's directory) and delegates to these objects, so fixes
 * here reach existing resources without touching their state.
 */

export { createDpuHostProvider, type DpuHostProviderOptions, dpuHost } from "./resources/dpu-host";
export { createDpuUnderlayProvider, dpuUnderlay } from "./resources/dpu-underlay";
export { createDpuWorkloadProvider, dpuWorkload } from "./resources/dpu-workload";
