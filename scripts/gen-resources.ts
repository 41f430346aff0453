/** The resources the generators describe, in the order they appear in every generated file. */
import type { z } from "zod";
import type { FieldRules } from "../provider/lifecycle";
import { DpuHostInputsSchema, dpuHostFieldRules } from "../provider/resources/dpu-host.schema";
import { DpuUnderlayInputsSchema, dpuUnderlayFieldRules } from "../provider/resources/dpu-underlay.schema";
import { DpuWorkloadInputsSchema, dpuWorkloadFieldRules } from "../provider/resources/dpu-workload.schema";
import {
  DpuHostObservedSchema,
  DpuUnderlayObservedSchema,
  DpuWorkloadObservedSchema,
} from "../provider/resources/observed-outputs";

/** One resource: its type name, its module under provider/resources, its schemas, its change rules and words. */
export interface ResourceSource {
  readonly name: string;
  readonly module: string;
  /**
   * The module under provider/resources that declares `<name>Outputs`, when not `module` itself: the SDK's
   * declaration files import it, so it must not reach transport code whose types need ssh2's (a user project
   * compiling under `strict` without skipLibCheck has no @types/ssh2).
   */
  readonly outputsModule?: string;
  readonly inputs: z.ZodType;
  /** The observed (output-only) fields, declared once in provider/resources/observed-outputs.ts. */
  readonly observed: z.ZodObject;
  readonly rules: FieldRules;
  /** The resource's description in schema.json. */
  readonly description: string;
  /** The first sentence of the SDK's Args and State types. */
  readonly summary: string;
}

export const RESOURCE_SOURCES: readonly ResourceSource[] = [
  {
    name: "DpuHost",
    module: "dpu-host",
    outputsModule: "dpu-host.schema",
    inputs: DpuHostInputsSchema,
    observed: DpuHostObservedSchema,
    rules: dpuHostFieldRules,
    description:
      "A DPU provisioned through its BMC (Redfish): the OS image it runs, its power state and its readiness. Runtime type token `pulumi-nodejs:dynamic/dpu:DpuHost` (a dynamic provider).",
    summary: "Inputs of a DpuHost: the BMC, the image to run, readiness and power.",
  },
  {
    name: "DpuUnderlay",
    module: "dpu-underlay",
    inputs: DpuUnderlayInputsSchema,
    observed: DpuUnderlayObservedSchema,
    rules: dpuUnderlayFieldRules,
    description:
      "The underlay networking of a DPU, configured over SSH with a rollback window. Runtime type token `pulumi-nodejs:dynamic/dpu:DpuUnderlay`.",
    summary:
      "Inputs of a DpuUnderlay: the DPU's networking on its declared interfaces, applied with a rollback.",
  },
  {
    name: "DpuWorkload",
    module: "dpu-workload",
    inputs: DpuWorkloadInputsSchema,
    observed: DpuWorkloadObservedSchema,
    rules: dpuWorkloadFieldRules,
    description:
      "An opaque workload on the DPU's CPU (process, systemd unit or podman container), deployed and supervised over SSH. Runtime type token `pulumi-nodejs:dynamic/dpu:DpuWorkload`.",
    summary: "Inputs of a DpuWorkload: an opaque workload on the DPU's CPU.",
  },
];

/** `dpu-host` → `DPU_HOST`: the prefix of a resource's generated constants. */
export function constantPrefix(s: ResourceSource): string {
  return s.module.toUpperCase().replace(/-/g, "_");
}
