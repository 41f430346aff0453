import { createHash } from "node:crypto";
import type { ImageFileInfo } from "../contracts";
import { inspectImage } from "./inspect";

/** Describes image bytes as the image server offers them (kind `other` when not a valid ISO/BFB). */
export function describeImage(name: string, url: string, bytes: Buffer): ImageFileInfo {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  try {
    const id = inspectImage(bytes);
    return { name, url, sha256, sizeBytes: bytes.length, kind: id.kind, label: id.label };
  } catch {
    return { name, url, sha256, sizeBytes: bytes.length, kind: "other" };
  }
}
