import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { parseBfb } from "../../simulator/images";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, USER } from "../sim-bmc/harness";

/** A simulated BMC of `profile` whose DPU runs a preinstalled OS, powered on (name prefixed with `tag`). */
export async function poweredBmc(lab: Lab, tag: string, profile: BmcProfileName): Promise<SimBmc> {
  const { bmc } = await lab.bmc(profile, {
    backend: new FakeBackend(`${tag}-${profile}-${Date.now()}`, preinstalled()),
  });
  await bmc.powerOnAndWait();
  return bmc;
}

/** The version the header of the lab's BFB `name` declares (what DPU_OS reports once it is installed). */
export function bfbVersion(lab: Lab, name: string): string {
  return parseBfb(readFileSync(join(lab.dir, "images", name))).version;
}

/** DpuHost inputs installing the lab's BFB `bfb` through BMC `b`, with `image` fields added or overridden. */
export function bfbHostProps(
  lab: Lab,
  b: SimBmc,
  bfb: string,
  image: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
    image: { url: lab.url(bfb), timeoutMs: 20_000, ...image },
    ready: { timeoutMs: 20_000 },
  };
}
