import { ALL_BMC_PROFILES, BMC_PROFILES, type BmcProfileName } from "../../contracts";
import { CAPTURE_PROFILES } from "./catalog";
import { locateCapture } from "./locate";
import { isQuirkProfile, QUIRK_PROFILES } from "./quirks";

/** What `mixed` cycles through, and why some profiles are left out. */
export interface MixedCycle {
  /** Every profile whose material is available: hand-written first (dpu-0 generic, dpu-1 dell, …), then capture and quirk profiles. */
  readonly profiles: readonly BmcProfileName[];
  /** Set when capture-based profiles were left out: says which and why. */
  readonly note?: string;
}

function captureOf(p: BmcProfileName): string | undefined {
  if (isQuirkProfile(p)) return CAPTURE_PROFILES[QUIRK_PROFILES[p].base].capture;
  return Object.hasOwn(CAPTURE_PROFILES, p)
    ? CAPTURE_PROFILES[p as keyof typeof CAPTURE_PROFILES].capture
    : undefined;
}

/**
 * The profiles `mixed` cycles through: all of them where the shared captures are found, otherwise the
 * hand-written ones (and a note naming what was left out and where the captures were looked for).
 */
export function mixedProfiles(
  mockupsDir?: string,
  /** Finds one capture's directory or throws (default {@link locateCapture}; tests pass one that finds nothing). */
  locate: (capture: string, dir?: string) => string = locateCapture,
): MixedCycle {
  const missing = new Map<string, string>();
  const ok = (p: BmcProfileName): boolean => {
    const cap = captureOf(p);
    if (cap === undefined) return true;
    if (!missing.has(cap)) {
      try {
        locate(cap, mockupsDir);
        missing.set(cap, "");
      } catch (e) {
        missing.set(cap, e instanceof Error ? e.message : String(e));
      }
    }
    return missing.get(cap) === "";
  };
  const profiles = ALL_BMC_PROFILES.filter(ok);
  const left = ALL_BMC_PROFILES.filter((p) => !profiles.includes(p));
  if (left.length === 0) return { profiles };
  const why = [...missing.values()].find((m) => m !== "") ?? "";
  return {
    profiles: profiles.length > 0 ? profiles : [...BMC_PROFILES],
    note: `mixed cycles ${profiles.join(", ")}; left out (captures not found): ${left.join(", ")}. ${why}`,
  };
}
