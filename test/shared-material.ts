import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The reference material the tests use as fixtures (DMTF schemas, registries, BMC mockups): next to the
 * repository (`../shared`, where a checkout of this workplace has it), at `/work/shared`, or wherever
 * `PULUMI_DPU_SHARED` points. The first that exists wins, so a clone anywhere on the machine finds it.
 */
export const SHARED_ROOT: string = (() => {
  const candidates = [
    process.env.PULUMI_DPU_SHARED,
    resolve(__dirname, "..", "..", "shared"),
    "/work/shared",
  ].filter((c): c is string => typeof c === "string" && c !== "");
  return candidates.find((c) => existsSync(join(c, "redfish"))) ?? candidates[0] ?? "/work/shared";
})();
