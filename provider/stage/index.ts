/**
 * The image stage: where the provider puts per-DPU artifacts (a NoCloud seed volume, a BFB with its bf.cfg) for
 * a BMC to fetch by URL, content-addressed by sha256 and removed after the install. Three kinds: a short-lived
 * built-in HTTP server, an HTTP PUT target and an SFTP target.
 */
import type { Logger } from "../log";
import { startBuiltinStage } from "./builtin-server";
import { openHttpPutStage } from "./http-put";
import { openSftpStage } from "./sftp";
import type { ImageStageSpec } from "./stage.schema";
import type { ImageStage } from "./types";

export { measure, objectKey, StageError, type StagePart } from "./content";
export { ImageStageSchema, type ImageStageSpec } from "./stage.schema";
export type { ImageStage, StagedObject } from "./types";

/** Opens the stage `spec` describes; a stage that cannot be reached fails here, before any BMC request. */
export async function openStage(spec: ImageStageSpec, log: Logger): Promise<ImageStage> {
  switch (spec.kind) {
    case "builtin":
      return startBuiltinStage(spec, log);
    case "httpPut":
      return openHttpPutStage(spec, log);
    case "sftp":
      return openSftpStage(spec, log);
  }
}
