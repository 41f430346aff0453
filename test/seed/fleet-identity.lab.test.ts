import * as fs from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripSecrets } from "../../engine/wire";
import type * as Sdk from "../../sdk";
import { type Lab, startLab } from "../../simulator";
import { missingCapability, skipOrFail } from "../capabilities";
import { type EngineHost, linkModules, REPO_ROOT } from "../engine/harness";
import { type HostStep, installHostMocks, settle } from "../program/host-mocks";
import { startLabStack, stopLabStack } from "../program/lab-stack";
import { type KeyPair, keyPair, openssh, planIdentity, scratch } from "../sim-lab/identity-helpers";
import { freePort } from "../stage/helpers";
import { loopbackStage } from "./fixtures";

// DpuFleet Day-0 identities with the real providers: setMocks sends every resource through the real
// dynamic-provider host to a 3-DPU lab. One generic image, one inventory row per DPU (hostname, management
// address); the operator key, interface and stage are declared once on the fleet. Each DPU comes up as its row
// says, and each node's workload reaches it on the seeded address, pinned to the generated host key.

const PROGRAM = path.join(REPO_ROOT, "examples", "fleet");
const HOST = "pulumi-nodejs:dynamic/dpu:DpuHost";

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "sdk", "fleet-identity.js")))
    return "dist/ is not built with fleet identities (npm run build)";
  return undefined;
}
const reason = unavailable();
skipOrFail("DpuFleet identity lab test", reason);

/** A typed inventory row, as a user declares it. */
interface Row {
  name: string;
  hostname: string;
  managementAddress: string;
}

describe.skipIf(reason !== undefined)(
  "DpuFleet identities against the simulator, through the real host",
  () => {
    let lab: Lab;
    let eh: EngineHost;
    let dir: string;
    let operator: KeyPair;

    beforeAll(async () => {
      lab = await startLab({ count: 3, profile: "generic", bootTimeMs: 200 });
      linkModules(PROGRAM);
      eh = await startLabStack(lab, PROGRAM, "dpufleetid");
      dir = await scratch("fleet-identity-");
      operator = await keyPair(dir, "operator");
    }, 180_000);

    afterAll(async () => {
      await stopLabStack(eh, lab);
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 120_000);

    it("three DPUs of one image come up with their rows' hostnames and addresses, pinned before first contact", async () => {
      const plans = await Promise.all(
        [0, 1, 2].map((i) => planIdentity(lab, dir, i, `dpu-${i}.fleet.lab`, operator)),
      );
      const rows: Row[] = plans.map((p, i) => ({
        name: `dpu-${i}`,
        hostname: p.hostname,
        managementAddress: `${p.address}/${p.before.prefix}`,
      }));
      const port = await freePort();
      const steps: HostStep[] = await installHostMocks(eh.engine, { project: "dpufleetid" });
      // The SDK as a program loads it (native require from the program directory).
      const { DpuFleet } = createRequire(path.join(PROGRAM, "index.ts"))("pulumi-dpu") as typeof Sdk;
      const image = lab.endpoints.images.files.find((f) => f.name === "dpu-os-1.1.iso")!;
      const fleet = new DpuFleet<Row>("rack", {
        inventory: rows,
        rollout: { canary: 3 },
        identity: {
          authorizedKeys: [operator.publicKey],
          managementInterface: "oob_net0",
          gateway: plans[0]!.before.nameserver,
          // One fleet-wide built-in stage: the three installs run at once and share its server and port.
          stage: loopbackStage(port),
        },
        node: (_row, i) => {
          const d = lab.endpoints.dpus[i]!;
          const login = { username: "root", privateKey: pulumi.secret(operator.privateKey) };
          return {
            host: {
              bmc: { endpoint: d.bmc.url, password: pulumi.secret(d.bmc.password), retryBaseDelayMs: 50 },
              image: { url: image.url, sha256: image.sha256, timeoutMs: 60_000 },
              ready: { timeoutMs: 60_000, ssh: login },
            },
            workloads: [
              {
                connection: { ...login, dialAttempts: 5, dialTimeoutMs: 5000 },
                name: "agent",
                runtime: "process",
                command: ["sleep", "3600"],
              },
            ],
          };
        },
      });
      expect(await settle(fleet.failed)).toEqual([]);
      expect(steps.map((s) => s.op)).toEqual(Array(6).fill("create"));
      for (const [i, p] of plans.entries()) {
        const host = steps.find((s) => s.type === HOST && s.name === `dpu-${i}-host`)!;
        const pin = host.outputs.hostKeyFingerprint;
        expect(pin).toMatch(/^SHA256:/);
        // The pin is the seeded key's (known before the first connection), not one trusted on first use.
        const seed = stripSecrets(host.outputs.identitySeed ?? null) as {
          hostKeyFingerprint?: string;
        } | null;
        expect(seed?.hostKeyFingerprint).toBe(pin);
        // The workload's connection went to the seeded address with the pin (known before first contact).
        const agent = steps.find((s) => s.name === `dpu-${i}-agent`)!;
        const conn = stripSecrets(agent.outputs.connection ?? null) as { host?: unknown; hostKey?: unknown };
        expect(conn.host).toBe(p.address);
        expect(conn.hostKey).toBe(pin);
        // Checked with OpenSSH trusting only the key the provider generated and seeded.
        const seeded = host.outputs.identityHostKey as { value?: { publicKey?: string }; publicKey?: string };
        const publicKey = seeded.value?.publicKey ?? seeded.publicKey ?? "";
        const r = await openssh(dir, p.address, operator.privateFile, publicKey, "hostname");
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe(p.hostname);
      }
      expect(
        new Set(steps.filter((s) => s.type === HOST).map((s) => s.outputs.hostKeyFingerprint)).size,
      ).toBe(3);
    }, 120_000);
  },
);
