import { z } from "zod";
import type { FieldRules } from "../lifecycle";
import { fieldRules, secretPaths } from "../lifecycle/field-meta";
import { SshConnectionSchema } from "../ssh/connection-schema";
import { execStartProblem } from "../workload/systemd";

/** Characters a value written to a line-oriented remote file may not hold. */
const NO_NEWLINE = /^[^\n\r\0]*$/;
const SHA256 = /^[0-9a-f]{64}$/;

const argField = z
  .string()
  .regex(NO_NEWLINE, "must not contain a newline or NUL (each argument is one line of the remote argv file)");

const absPath = z
  .string()
  .regex(/^\/[^\n\r\0]*$/, "must be an absolute path without newlines")
  .refine((p) => !p.split("/").includes(".."), { message: "must not contain `..`" });

/** An artifact destination: absolute, and in normal form so that two spellings cannot name one file. */
const destPath = absPath
  .refine((p) => p.length > 1 && !p.endsWith("/"), {
    message: "must name a file: no trailing `/`",
  })
  .refine((p) => !p.includes("//"), { message: "must not contain `//` (write the path in normal form)" })
  .refine((p) => !p.split("/").includes("."), {
    message: "must not contain a `.` segment (write the path in normal form)",
  });

const ArtifactFieldsSchema = z
  .strictObject({
    source: z
      .union([
        z
          .strictObject({ path: z.string().min(1).describe("Path of a file on the machine running Pulumi.") })
          .strict(),
        z
          .strictObject({
            content: z.string().describe("Inline file content (UTF-8).").meta({ secret: "whenFlagged" }),
          })
          .strict(),
        z
          .strictObject({
            url: z
              .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
              .describe("URL fetched by the provider (verify it with `sha256`).")
              .meta({ credentialUrl: true }),
          })
          .strict(),
      ])
      .describe("Where the bytes come from: `{ path }` (local file), `{ content }` (inline) or `{ url }`."),
    destination: destPath.describe(
      "Absolute path of the file on the DPU, in normal form (no trailing `/`, `//`, `.` or `..` segment).",
    ),
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, "must be an octal mode such as `0755`")
      .optional()
      .describe("File mode on the DPU, octal (default `0600` for a secret artifact, else `0644`)."),
    secret: z
      .boolean()
      .optional()
      .describe(
        "The content is secret: the file defaults to mode `0600` (root-only). The SDK sets it when any part " +
          "of the artifact is a Pulumi secret (`content: pulumi.secret(…)`); the provider cannot tell, since " +
          "the engine strips secretness before calling it. Set it yourself for a secret `path` or `url` source. " +
          "The file is owned by root: a workload running as another `user` needs a `mode` that lets it read.",
      )
      .meta({ secretFlag: true }),
    sha256: z
      .string()
      .regex(SHA256, "must be 64 lower-case hex digits")
      .optional()
      .describe("Expected sha256 of the content. Verified before upload; a mismatch fails the deployment."),
    overwrite: z
      .boolean()
      .optional()
      .describe(
        "Allow replacing a file that exists on the DPU and was not created by this workload (default false: " +
          "such a file is refused). The original is backed up and restored when the workload is deleted. A " +
          "path claimed by another workload is refused even then.",
      ),
  })
  .strict();

/**
 * A file the workload needs on the DPU. `mode` defaults to `0600` for a `secret` artifact and `0644` otherwise.
 * `.overwrite` fills it in: unlike a transform it keeps the object schema, so check() still names unknown keys
 * and the package schema still describes every field; the cast records that `mode` is always set once parsed.
 */
export const WorkloadArtifactSchema = ArtifactFieldsSchema.overwrite((a) => ({
  ...a,
  mode: a.mode ?? (a.secret ? "0600" : "0644"),
})).describe(
  "A file uploaded over SFTP atomically (temporary file + rename), skipped when already identical.",
) as unknown as z.ZodType<
  Omit<z.output<typeof ArtifactFieldsSchema>, "mode"> & { mode: string },
  z.input<typeof ArtifactFieldsSchema>
>;

/** Health check of the workload, run on the DPU. */
export const WorkloadHealthSchema = z
  .strictObject({
    command: z
      .array(argField)
      .min(1)
      .optional()
      .describe("A command run on the DPU (argv); exit 0 means healthy."),
    tcpPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("A TCP port on the DPU that must accept connections (probed from the DPU, on 127.0.0.1)."),
    httpUrl: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .regex(NO_NEWLINE)
      .optional()
      .describe("A URL fetched from the DPU (curl or wget); a 2xx/3xx answer means healthy.")
      .meta({ credentialUrl: true }),
    intervalMs: z.number().int().min(100).max(600_000).default(1000).describe("Time between probes (ms)."),
    timeoutMs: z.number().int().min(100).max(600_000).default(2000).describe("Timeout of one probe (ms)."),
    retries: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe(
        "Consecutive failed probes (after the start period) before the workload is declared unhealthy.",
      ),
    startPeriodMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(0)
      .describe("Grace period after start during which failed probes do not count (ms)."),
  })
  .strict()
  .refine((h) => [h.command, h.tcpPort, h.httpUrl].filter((x) => x !== undefined).length === 1, {
    message: "set exactly one of command, tcpPort or httpUrl",
  })
  .describe("How to tell the workload is healthy.");

/** A container image for the podman runtime. */
export const WorkloadImageSchema = z
  .strictObject({
    reference: z
      .string()
      .regex(
        /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
        "must be an image reference such as `registry.example/app:1.2` or `app@sha256:<64 hex>`",
      )
      .describe("Image reference (registry/name[:tag][@sha256:digest])."),
    pullPolicy: z
      .enum(["always", "missing", "never", "newer"])
      .default("missing")
      .describe("When podman pulls the image (default `missing`)."),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "must be `sha256:<64 hex>`")
      .optional()
      .describe("Pin the image to this digest; the container runs `reference@digest`."),
  })
  .strict()
  .describe("Container image (podman runtime).");

/** A port published by a podman container. */
export const WorkloadPortSchema = z
  .strictObject({
    containerPort: z.number().int().min(1).max(65535).describe("Port inside the container."),
    hostPort: z.number().int().min(1).max(65535).optional().describe("Port on the DPU (default: same)."),
    protocol: z.enum(["tcp", "udp"]).default("tcp").describe("Protocol (default tcp)."),
    hostIp: z.ipv4().optional().describe("Bind address on the DPU (default all)."),
  })
  .strict();

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envMap = z.record(
  z.string().regex(ENV_KEY, "environment variable names must match [A-Za-z_][A-Za-z0-9_]*"),
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
      .array(argField)
      .min(1)
      .optional()
      .describe(
        "The command as an argv array (or one shell string with `shell: true`). Optional with an image.",
      ),
    shell: z
      .boolean()
      .default(false)
      .describe(
        "Run `command[0]` through `/bin/sh -c` (explicit opt-in; `command` must then have one element).",
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
    if (w.shell && w.command && w.command.length !== 1) {
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
      w.command && !w.shell && !containerArgs ? execStartProblem(w.command[0] ?? "") : undefined;
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
/** One artifact input. */
export type WorkloadArtifact = z.output<typeof WorkloadArtifactSchema>;
/** The health input. */
export type WorkloadHealth = z.output<typeof WorkloadHealthSchema>;
/** A concrete runtime (after `auto` is resolved). */
export type ConcreteRuntime = "process" | "systemd" | "podman";

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
