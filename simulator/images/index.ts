/** Images of the DPU lab: ISO9660 and BFB-like generation, inspection, and the HTTP image server. */
export {
  BFB_MAGIC,
  type BfbHeader,
  bfbAppendedConfig,
  type MakeBfbOptions,
  makeBfb,
  parseBfb,
} from "./bfb";
export { describeImage } from "./catalog";
export { type ImageIdentity, inspectImage } from "./inspect";
export { type MakeIsoOptions, makeIso } from "./iso";
export { type ScpImageServer, startScpImageServer } from "./scp-server";
export { type ImageServer, type ImageServerOptions, startImageServer } from "./server";
export { ensureStandardImages, STANDARD_IMAGE_NAMES } from "./standard";
