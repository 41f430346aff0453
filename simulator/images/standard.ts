import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ImageFileInfo } from "../contracts";
import { makeBfb } from "./bfb";
import { describeImage } from "./catalog";
import { makeIso } from "./iso";

/** The standard image set: name → how to build it. */
const STANDARD: readonly { name: string; build: () => Promise<Buffer> | Buffer }[] = [
  { name: "dpu-os-1.0.iso", build: () => makeIso({ label: "DPUOS_1_0" }) },
  { name: "dpu-os-1.1.iso", build: () => makeIso({ label: "DPUOS_1_1" }) },
  { name: "dpu-os-2.0.iso", build: () => makeIso({ label: "DPUOS_2_0" }) },
  { name: "bf-bundle-4.9.bfb", build: () => makeBfb({ name: "bf-bundle-4.9", version: "4.9" }) },
  { name: "bf-bundle-4.10.bfb", build: () => makeBfb({ name: "bf-bundle-4.10", version: "4.10" }) },
  {
    // Deterministic garbage: neither ISO9660 nor BFB. A BMC that boots it must fail.
    name: "corrupt.iso",
    build: () => Buffer.alloc(64 * 1024, "this is not an ISO9660 image\n"),
  },
];

/**
 * Built images by name, shared by every lab in this process: a test process starts many labs, and each would
 * otherwise run xorriso three times for the same content (labels and files are fixed; only timestamps differ).
 */
const built = new Map<string, Promise<Buffer>>();

function buildOnce(img: (typeof STANDARD)[number]): Promise<Buffer> {
  let p = built.get(img.name);
  if (!p) {
    p = Promise.resolve().then(img.build);
    built.set(img.name, p);
    p.catch(() => built.delete(img.name));
  }
  return p;
}

/** Names of the standard images, in the order {@link ensureStandardImages} returns them. */
export const STANDARD_IMAGE_NAMES: readonly string[] = STANDARD.map((s) => s.name);

/**
 * Writes the standard images into `dir` when missing (existing files are kept) and describes them.
 * `url` is `<baseUrl>/<name>` when `baseUrl` is given, else a `file:` URL.
 */
export async function ensureStandardImages(dir: string, baseUrl?: string): Promise<ImageFileInfo[]> {
  await mkdir(dir, { recursive: true });
  const out: ImageFileInfo[] = [];
  for (const img of STANDARD) {
    const path = join(dir, img.name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      bytes = await buildOnce(img);
      await writeFile(path, bytes);
    }
    const url = baseUrl ? `${baseUrl.replace(/\/+$/, "")}/${img.name}` : pathToFileURL(path).href;
    out.push(describeImage(img.name, url, bytes));
  }
  return out;
}
