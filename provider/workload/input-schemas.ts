import { z } from "zod";
import { SHA256_HEX, SHA256_HEX_SOURCE } from "../lifecycle/digest-pattern";

/*
 * The parts of the DpuWorkload inputs the workload domain works with (artifacts, health check, image, ports),
 * declared once here with their field descriptions and metadata. provider/resources/dpu-workload.schema.ts
 * composes them into the resource's input schema; the domain never imports the resource layer.
 */

/** Characters a value written to a line-oriented remote file may not hold. */
export const NO_NEWLINE = /^[^\n\r\0]*$/;

/** One argument of an argv (one line of the remote argv file). */
export const argField = z
  .string()
  .regex(NO_NEWLINE, "must not contain a newline or NUL (each argument is one line of the remote argv file)");

/** An absolute path on the DPU without newlines or `..` segments. */
export const absPath = z
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
      .regex(SHA256_HEX, "must be 64 lower-case hex digits")
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
  "A file uploaded over SFTP next to its destination under a staging name, checked, then renamed into place " +
    "with the rest of the version; skipped when already identical on the DPU.",
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
        new RegExp(
          `^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\\w][\\w.-]{0,127})?(@sha256:${SHA256_HEX_SOURCE})?$`,
        ),
        "must be an image reference such as `registry.example/app:1.2` or `app@sha256:<64 hex>`",
      )
      .describe("Image reference (registry/name[:tag][@sha256:digest])."),
    pullPolicy: z
      .enum(["always", "missing", "never", "newer"])
      .default("missing")
      .describe("When podman pulls the image (default `missing`)."),
    digest: z
      .string()
      .regex(new RegExp(`^sha256:${SHA256_HEX_SOURCE}$`), "must be `sha256:<64 hex>`")
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

/** One artifact input, parsed (`mode` filled in). */
export type WorkloadArtifact = z.output<typeof WorkloadArtifactSchema>;
/** The health input, parsed. */
export type WorkloadHealth = z.output<typeof WorkloadHealthSchema>;
/** The container image input, parsed. */
export type WorkloadImage = z.output<typeof WorkloadImageSchema>;
/** One published port, parsed. */
export type WorkloadPort = z.output<typeof WorkloadPortSchema>;
/** A concrete runtime (after `auto` is resolved). */
export type ConcreteRuntime = "process" | "systemd" | "podman";
