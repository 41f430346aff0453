import type { BmcProfileName } from "../contracts";
import { CAPTURE_PROFILES } from "./capture/catalog";
import { isQuirkProfile, QUIRK_PROFILES } from "./capture/quirks";
import { PROFILES } from "./profiles";

/** The one-line note of a profile: what it reproduces (hand-written, capture-backed or quirk profile). */
export function profileNote(name: BmcProfileName): string {
  if (isQuirkProfile(name)) return QUIRK_PROFILES[name].note;
  if (Object.hasOwn(CAPTURE_PROFILES, name))
    return CAPTURE_PROFILES[name as keyof typeof CAPTURE_PROFILES].note;
  return PROFILES[name as keyof typeof PROFILES].note;
}
