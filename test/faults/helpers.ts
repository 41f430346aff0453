import { expect } from "vitest";
import type { BmcSnapshot, Lab } from "../../simulator";
import { unavailable } from "../capabilities";

/** Why the lab cannot run here (root, ip, sshd), or undefined. In CI a missing prerequisite fails the file. */
export function labMissing(what: string): string | undefined {
  return unavailable(what, "lab");
}

/** The BMC snapshot of lab DPU `index`. */
export function snap(lab: Lab, index: number): BmcSnapshot {
  return [...lab.dpus.values()][index]!.bmc.snapshot();
}

/** Requests the BMC of DPU `index` served so far, all methods. */
export function served(lab: Lab, index: number): number {
  return Object.values(snap(lab, index).requests).reduce((a, b) => a + b, 0);
}

/**
 * Nothing orphaned on the BMC after a provisioning run: no session left open, media ejected, no boot override
 * pending, the DPU on and running `sha256`.
 */
export function expectCleanBmc(lab: Lab, index: number, sha256: string): void {
  const s = snap(lab, index);
  expect(s.activeSessions).toBe(0);
  expect(s.media.inserted).toBe(false);
  expect(s.override.enabled).toBe("Disabled");
  expect(s.powerState).toBe("On");
  expect(s.installedImage?.sha256).toBe(sha256);
  expect([...lab.dpus.values()][index]!.backend.running()).toBe(true);
}

/** Resolves once `cond` holds (polled every 10 ms), or rejects after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
