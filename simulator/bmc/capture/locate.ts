import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** Environment variable naming the mockups directory (the one holding `public-rackmount1`, …). */
export const MOCKUPS_ENV = "PULUMI_DPU_MOCKUPS";

/**
 * Where the captured Redfish trees may be, in order: `explicit` (an option), `$PULUMI_DPU_MOCKUPS`,
 * `$PULUMI_DPU_SHARED/redfish/mockups`, `../shared/redfish/mockups` next to the repository (from the source tree
 * and from `dist/`), then `/work/shared/redfish/mockups`. The captures are reference material read at run time,
 * never copied into the repository.
 */
export function mockupsDirCandidates(explicit?: string): string[] {
  const env = process.env;
  const list = [
    explicit,
    env[MOCKUPS_ENV],
    env.PULUMI_DPU_SHARED ? join(env.PULUMI_DPU_SHARED, "redfish", "mockups") : undefined,
    // simulator/bmc/capture → repository root is three levels up; dist/simulator/bmc/capture four.
    resolve(__dirname, "..", "..", "..", "..", "shared", "redfish", "mockups"),
    resolve(__dirname, "..", "..", "..", "..", "..", "shared", "redfish", "mockups"),
    "/work/shared/redfish/mockups",
  ];
  return [...new Set(list.filter((c): c is string => typeof c === "string" && c !== ""))];
}

/**
 * The directory of one capture (`name`, e.g. `public-rackmount1`). Throws, naming every place it looked, when
 * no candidate holds it.
 */
export function locateCapture(name: string, explicit?: string): string {
  const candidates = mockupsDirCandidates(explicit);
  for (const c of candidates) {
    const dir = join(c, name);
    if (existsSync(dir)) return dir;
  }
  throw new Error(
    `capture '${name}' not found: looked in ${candidates.map((c) => join(c, name)).join(", ")}. ` +
      `Point ${MOCKUPS_ENV} (or the mockupsDir option) at the directory holding the Redfish mockups ` +
      `(shared/redfish/mockups).`,
  );
}
