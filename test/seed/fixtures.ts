import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DpuIdentity, DpuIdentitySchema } from "../../provider/host/identity.schema";

/** A fresh operator key pair made by OpenSSH's ssh-keygen (an independent key source). */
export function operatorPublicKey(): string {
  const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-seed-key-"));
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "operator@lab", "-f", join(dir, "k")]);
    return readFileSync(join(dir, "k.pub"), "utf8").trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let operatorKey: string | undefined;

/** A checked identity: static management address unless `over` says otherwise. */
export function identity(over: Record<string, unknown> = {}): DpuIdentity {
  if (operatorKey === undefined) operatorKey = operatorPublicKey();
  return DpuIdentitySchema.parse({
    hostname: "dpu-0.lab",
    authorizedKeys: [operatorKey],
    management: { interface: "oob_net0", addresses: ["198.18.0.10/24"], gateway: "198.18.0.1" },
    ...over,
  });
}

/** The `bmc` input block of a lab DPU (its endpoint, credentials and CA, short retry delays). */
export function labBmc(ep: {
  bmc: { url: string; username: string; password: string; caCertFile: string };
}): Record<string, unknown> {
  return {
    endpoint: ep.bmc.url,
    username: ep.bmc.username,
    password: ep.bmc.password,
    caCert: readFileSync(ep.bmc.caCertFile, "utf8"),
    retryBaseDelayMs: 50,
  };
}

/** The built-in stage on a free loopback port, advertised as itself. */
export function loopbackStage(port: number, advertisePort = port) {
  return {
    kind: "builtin" as const,
    listenAddress: "127.0.0.1",
    port,
    advertiseUrl: `http://127.0.0.1:${advertisePort}`,
  };
}
