import { z } from "zod";
import { HOST_KEY_PATTERN } from "../ssh/host-key-pattern";

const httpUrl = (what: string, schemes: readonly string[] = ["http:", "https:"]) =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return schemes.includes(u.protocol) && u.username === "" && u.password === "" && u.search === "";
      } catch {
        return false;
      }
    },
    {
      message: `${what} must be a ${schemes.map((s) => s.replace(":", "://")).join(" or ")} URL without credentials or query (credentials go in username/password)`,
    },
  );

/** The provider serves the artifacts itself, for the length of the install (as Ironic's conductor does). */
export const BuiltinStageSchema = z
  .strictObject({
    kind: z.literal("builtin").describe("A short-lived HTTP server run by the provider."),
    listenAddress: z
      .string()
      .min(1)
      .default("0.0.0.0")
      .describe("Address to listen on (default 0.0.0.0: every interface)."),
    port: z.number().int().min(1).max(65535).describe("TCP port to listen on (open it towards the BMCs)."),
    advertiseUrl: httpUrl("stage.advertiseUrl", ["http:"]).describe(
      "Base URL the BMCs fetch from, reaching this server (e.g. `http://10.0.0.1:8080`). Checked from the provider before anything is sent to a BMC.",
    ),
  })
  .describe("Built-in HTTP server.");

/** An existing web server accepting HTTP PUT (WebDAV or a plain PUT-enabled server). */
export const HttpPutStageSchema = z
  .strictObject({
    kind: z.literal("httpPut").describe("Upload with HTTP PUT, remove with DELETE after the install."),
    url: httpUrl("stage.url").describe("Base URL uploads go to (`<url>/<sha256>-<name>`)."),
    fetchUrl: httpUrl("stage.fetchUrl")
      .optional()
      .describe("Base URL the BMCs fetch the same objects from (default: `url`)."),
    username: z.string().min(1).optional().describe("User for HTTP Basic authentication of uploads."),
    password: z
      .string()
      .min(1)
      .optional()
      .describe("Password of `username`. Secret: never logged, secret in state.")
      .meta({ secret: true }),
    caCert: z.string().optional().describe("PEM CA the upload server's TLS certificate must chain to."),
  })
  .describe("HTTP PUT upload target.");

/** An SSH server accepting SFTP uploads, with a web (or SCP) front the BMCs fetch from. */
export const SftpStageSchema = z
  .strictObject({
    kind: z.literal("sftp").describe("Upload over SFTP, remove after the install."),
    host: z.string().min(1).describe("SSH server of the image store."),
    port: z.number().int().min(1).max(65535).default(22).describe("SSH port (default 22)."),
    username: z.string().min(1).describe("SSH user."),
    password: z
      .string()
      .min(1)
      .optional()
      .describe("SSH password. Secret: never logged, secret in state.")
      .meta({ secret: true }),
    privateKey: z
      .string()
      .min(1)
      .optional()
      .describe("SSH private key (OpenSSH or PEM). Secret: never logged, secret in state.")
      .meta({ secret: true }),
    hostKey: z
      .string()
      .regex(HOST_KEY_PATTERN, "must be `SHA256:<base64>` (ssh-keygen -lf) or a public key line")
      .describe("Pinned host key of the image store (required: uploads never trust on first use)."),
    directory: z
      .string()
      .regex(/^\/[A-Za-z0-9._@+,=:~%/-]*$/, "must be an absolute path")
      .describe("Directory the objects are written to (`<directory>/<sha256>-<name>`)."),
    fetchUrl: httpUrl("stage.fetchUrl", ["http:", "https:", "scp:", "sftp:"]).describe(
      "Base URL the BMCs fetch the objects from (a web server over `directory`, or `scp://host/directory`).",
    ),
  })
  .refine((v) => v.password !== undefined || v.privateKey !== undefined, {
    message: "give stage.password or stage.privateKey",
    path: ["privateKey"],
  })
  .describe("SFTP upload target.");

/** Where per-DPU artifacts (seed volume, BFB with bf.cfg) are put for the BMC to fetch. */
export const ImageStageSchema = z
  .union([BuiltinStageSchema, HttpPutStageSchema, SftpStageSchema])
  .describe(
    "Image stage: where the provider puts per-DPU artifacts (the seed volume, a BFB with its bf.cfg) for the BMC to fetch, by content digest, removed after the install.",
  );

/** Checked stage input. */
export type ImageStageSpec = z.output<typeof ImageStageSchema>;
/** Checked built-in stage input. */
export type BuiltinStageSpec = z.output<typeof BuiltinStageSchema>;
/** Checked HTTP PUT stage input. */
export type HttpPutStageSpec = z.output<typeof HttpPutStageSchema>;
/** Checked SFTP stage input. */
export type SftpStageSpec = z.output<typeof SftpStageSchema>;
