import { z } from "zod";
import type { FieldRules } from "../lifecycle";
import { fieldRules, secretPaths } from "../lifecycle/field-meta";
import { SshConnectionSchema } from "../ssh/connection-schema";
import {
  absPath,
  argField,
  NO_NEWLINE,
  WorkloadArtifactSchema,
  WorkloadHealthSchema,
  WorkloadImageSchema,
  WorkloadPortSchema,
} from "../workload/input-schemas";
import { execStartProblem } from "../workload/systemd";

// The parts the workload domain owns, re-exported as part of this resource's schema.
export type {
  ConcreteRuntime,
  WorkloadArtifact,
  WorkloadHealth,
  WorkloadImage,
  WorkloadPort,
} from "../workload/input-schemas";
export {
  WorkloadArtifactSchema,
  WorkloadHealthSchema,
  WorkloadImageSchema,
  WorkloadPortSchema,
} from "../workload/input-schemas";

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envMap = z.record(
  z
    .string()
    .regex(
      ENV_KEY,
      "not a POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]* (a letter or _, then letters, digits or _)",
    ),
  z.string().regex(NO_NEWLINE, "environment values must not contain newlines or NUL"),
);

/** The DpuWorkload inputs: the single source of truth for check(), the schema and the SDK. */
export const DpuWorkloadInputsSchema = z
  .strictObject({
    connection: SshConnectionSchema,
    name: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        "must be a DNS label: lower-case letters, digits and `-`, at most 63, not starting or ending with `-`",
      )
      .describe("Workload name on the DPU (unit, container and directory names derive from it). Replaces.")
      .meta({ replaceOnChange: true }),
    runtime: z
      .enum(["auto", "process", "systemd", "podman"])
      .default("auto")
      .describe(
        "How the workload runs: `process` (our supervisor, no systemd needed), `systemd` (a unit), `podman` " +
          "(a container), or `auto` (podman if present, else systemd, else process). Replaces.",
      )
      .meta({ replaceOnChange: true }),
    command: z
      .union([argField, z.array(argField).min(1)])
      .optional()
      .describe(
        "The command: an argv array, run without a shell; or, with `shell: true`, one shell string (or a " +
          "one-element array) that the DPU's `/bin/sh -c` runs. Optional with an image.",
      ),
    shell: z
      .boolean()
      .default(false)
      .describe(
        "Run `command` (one shell string, or an array of exactly one element) through the DPU's `/bin/sh -c` " +
          "(explicit opt-in; without it a string command is refused).",
      ),
    workingDir: absPath.optional().describe("Working directory of the command on the DPU."),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, "must be a POSIX user name")
      .optional()
      .describe("Run as this user (default root)."),
    image: WorkloadImageSchema.optional(),
    artifacts: z.array(WorkloadArtifactSchema).max(64).default([]).describe("Files to upload."),
    env: envMap.default({}).describe("Plain environment variables."),
    secretEnv: envMap
      .default({})
      .describe("Secret environment variables: written to a root-only (0600) file, never in argv or logs.")
      .meta({ secret: true }),
    restart: z
      .enum(["no", "on-failure", "always"])
      .default("on-failure")
      .describe("Restart policy (default `on-failure`)."),
    cpuLimit: z
      .number()
      .positive()
      .max(1024)
      .optional()
      .describe("CPU limit in cores, e.g. 0.5 (systemd CPUQuota, podman --cpus)."),
    memoryLimitMb: z
      .number()
      .int()
      .min(4)
      .max(1_048_576)
      .optional()
      .describe("Memory limit in MiB (systemd MemoryMax, podman --memory)."),
    ports: z.array(WorkloadPortSchema).max(64).default([]).describe("Published ports (podman)."),
    health: WorkloadHealthSchema.optional(),
    state: z
      .enum(["running", "stopped"])
      .default("running")
      .describe("Desired state. read() reports the observed one (`failed` or `stopped` is drift)."),
    owner: z
      .string()
      .min(1)
      .max(512)
      .regex(NO_NEWLINE, "must not contain a newline or NUL")
      .optional()
      .describe(
        "Identity of the writer that owns this object on the DPU; the SDK sets it to " +
          "`<project>/<stack>/<resource name>` (override it to hand a workload over). create() refuses a workload " +
          "of the same `name` recorded with another owner; delete() leaves such a workload alone. A workload " +
          "deployed without an owner (by an older version) is adopted and the owner recorded.",
      )
      // Recorded on the DPU at the next deployment; a change alone does not restart the workload.
      .meta({ noHardwareAction: true }),
    triggers: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .default([])
      .describe("Arbitrary values; any change forces a redeploy (restart)."),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.command === undefined && w.image === undefined) {
      ctx.addIssue({ code: "custom", path: ["command"], message: "set command (or image for podman)" });
    }
    if (typeof w.command === "string" && !w.shell) {
      ctx.addIssue({
        code: "custom",
        path: ["command"],
        message:
          "a string command needs `shell: true` (it then runs through the DPU's /bin/sh -c); without a shell, " +
          'give an argv array, e.g. ["/usr/bin/agent", "--flag"]',
      });
    }
    if (w.shell && Array.isArray(w.command) && w.command.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["command"],
        message: "with shell: true, command must be exactly one shell string",
      });
    }
    // systemd reads prefixes (`+` = full privileges, ignoring `user`) in the first word of ExecStart, quoted or
    // not; a program name never needs them, so they are refused for every runtime but a container's command.
    const containerArgs = w.runtime === "podman" || (w.runtime === "auto" && w.image !== undefined);
    const problem =
      Array.isArray(w.command) && !w.shell && !containerArgs
        ? execStartProblem(w.command[0] ?? "")
        : undefined;
    if (problem) ctx.addIssue({ code: "custom", path: ["command", 0], message: problem });
    if (w.image && w.runtime !== "podman" && w.runtime !== "auto") {
      ctx.addIssue({ code: "custom", path: ["image"], message: "image needs runtime `podman` (or `auto`)" });
    }
    if (w.ports.length > 0 && w.runtime !== "podman" && w.runtime !== "auto") {
      ctx.addIssue({ code: "custom", path: ["ports"], message: "published ports need runtime `podman`" });
    }
    // dash, the process supervisor's shell on Debian/Ubuntu, refuses a non-numeric OPTIND ("Illegal number").
    const processShell = w.runtime === "process" || (w.runtime === "auto" && w.image === undefined);
    for (const [field, vars] of [
      ["env", w.env],
      ["secretEnv", w.secretEnv],
    ] as const) {
      const optind = vars.OPTIND;
      if (processShell && optind !== undefined && !/^[0-9]+$/.test(optind)) {
        ctx.addIssue({
          code: "custom",
          path: [field, "OPTIND"],
          message:
            "OPTIND must be a decimal number with the process runtime: its POSIX shell (dash) refuses any other " +
            "value for this variable",
        });
      }
    }
    for (const k of Object.keys(w.secretEnv)) {
      if (k in w.env) {
        ctx.addIssue({
          code: "custom",
          path: ["secretEnv", k],
          message: `${k} is set in both env and secretEnv`,
        });
      }
    }
    const seen = new Set<string>();
    w.artifacts.forEach((a, i) => {
      if (seen.has(a.destination)) {
        ctx.addIssue({
          code: "custom",
          path: ["artifacts", i, "destination"],
          message: "two artifacts have this destination",
        });
      }
      seen.add(a.destination);
    });
  })
  .describe("An opaque workload running on the DPU's CPU, deployed and supervised over SSH.");

/** Checked DpuWorkload inputs. */
export type DpuWorkloadInputs = z.output<typeof DpuWorkloadInputsSchema>;

/** Input keys compared by diff. */
export const DPU_WORKLOAD_INPUT_KEYS = Object.keys(DpuWorkloadInputsSchema.shape) as readonly string[];

/**
 * Per-field change rules, derived from the fields' metadata: name and runtime replace, connection credentials
 * and the owner are no-ops, all else restarts.
 */
export const dpuWorkloadFieldRules: FieldRules = fieldRules(DpuWorkloadInputsSchema, {
  deleteBeforeReplace: true,
});

/** Dotted paths of secret inputs (marked additionalSecretOutputs by the SDK), derived from the `secret` metadata. */
export const DPU_WORKLOAD_SECRET_INPUTS: readonly string[] = secretPaths(DpuWorkloadInputsSchema);
