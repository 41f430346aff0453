import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { Lab } from "../../simulator";
import { type EngineHost, startEngineHost } from "../engine/harness";

/**
 * Program tests against a simulator lab: the lab's shared credentials become `dpu:` stack config (the secret key
 * marked secret, as `pulumi config set --secret` would), set for the program under setMocks and sent to the real
 * dynamic-provider host started in `programDir`. `extra` adds project config.
 */
export async function startLabStack(
  lab: Lab,
  programDir: string,
  project: string,
  extra: Record<string, string> = {},
): Promise<EngineHost> {
  const config = {
    ...extra,
    "dpu:bmcUsername": lab.endpoints.dpus[0]?.bmc.username ?? "",
    "dpu:bmcCaCert": fs.readFileSync(lab.caFile, "utf8"),
    "dpu:sshPrivateKey": fs.readFileSync(lab.sshPrivateKeyFile, "utf8"),
  };
  pulumi.runtime.setAllConfig(config, ["dpu:sshPrivateKey"]);
  return startEngineHost({ programDir, project, config, secretKeys: ["dpu:sshPrivateKey"] });
}

/** Destroys what the stack created, stops the host and the lab (each step tolerant of an earlier failure). */
export async function stopLabStack(eh: EngineHost | undefined, lab: Lab | undefined): Promise<void> {
  if (eh) await eh.engine.destroy().catch(() => undefined);
  await eh?.close();
  await lab?.stop();
}
