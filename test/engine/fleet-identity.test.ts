import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { stripSecrets } from "../../engine/wire";
import {
  DpuFleet,
  type DpuFleetIdentity,
  type DpuInventoryEntry,
  DpuNode,
  parseCsv,
  validateInventory,
} from "../../sdk";
import {
  installRecordingMocks,
  outputValue,
  type Registration,
  withCapturedRejections,
} from "../program/mock-recorder";
import type { Json } from "./harness";

// DpuFleet and DpuNode wire Day-0 identity, under pulumi.runtime.setMocks: each row of a typed inventory gives
// its DpuHost its own identity (fleet-wide keys, interface and stage declared once), and each node's underlay
// and workload connect to the seeded management address, pinned to that host's `hostKeyFingerprint`.

const HOST = "pulumi-nodejs:dynamic/dpu:DpuHost";
const UNDERLAY = "pulumi-nodejs:dynamic/dpu:DpuUnderlay";
const WORKLOAD = "pulumi-nodejs:dynamic/dpu:DpuWorkload";
const OPERATOR = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKeyOperatorKeyOperatorKeyOpe operator@lab";
const EXTRA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRowOnlyKeyRowOnlyKeyRowOnlyKeyRowOnly row@lab";

/** A typed inventory row: an interface without an index signature, as a user would declare it. */
interface Row {
  name: string;
  bmc: string;
  hostname: string;
  managementAddress: string;
  authorizedKeys?: string[];
}

const ROWS: Row[] = [0, 1, 2].map((i) => ({
  name: `dpu-${i}`,
  bmc: `https://127.0.0.1:${4430 + i}`,
  hostname: `dpu-${i}.fleet.lab`,
  managementAddress: `198.18.0.${10 + i}/24`,
  ...(i === 2 ? { authorizedKeys: [EXTRA] } : {}),
}));

/** The fleet-wide part, for any row type. */
const shared = <E>(): DpuFleetIdentity<E> => ({
  authorizedKeys: [OPERATOR],
  managementInterface: "oob_net0",
  gateway: "198.18.0.1",
  stage: { kind: "builtin", port: 8080, advertiseUrl: "http://10.0.0.1:8080" },
});
const IDENTITY = shared<Row>();

/** The mocked engine gives each DpuHost its own pinned key, as the provider would from the generated one. */
const fingerprint = (hostName: string) => `SHA256:pin-of-${hostName}`;

function fleetOf(rows: Row[], identity: DpuFleetIdentity<Row> = IDENTITY): DpuFleet<Row> {
  return new DpuFleet<Row>("rack", {
    inventory: rows,
    identity,
    node: (row) => ({
      host: {
        bmc: { endpoint: row.bmc },
        image: { url: "http://images.lab/dpu-os-1.1.iso", sha256: "ab".repeat(32) },
        ready: { ssh: { username: "root" } },
      },
      underlay: { connection: { username: "root" }, interfaces: [{ name: "p0", mtu: 9000 }] },
      workloads: [{ connection: { username: "root" }, name: "agent", command: ["/bin/true"] }],
    }),
  });
}

function plain(r: Registration | undefined): Record<string, unknown> {
  return stripSecrets((r?.inputs ?? {}) as Json) as Record<string, unknown>;
}

async function settle(fleet: DpuFleet<Row>): Promise<void> {
  await outputValue(pulumi.all(fleet.nodes.map((n) => n.ready)));
}

beforeEach(() => {
  vi.resetModules();
});

describe("DpuFleet identities: one generic image, N distinct pinned DPUs", () => {
  it("three rows give three DpuHosts with their own identity; connections use the seeded address and pin", async () => {
    const log = await installRecordingMocks({
      outputs: (type, name) => (type === HOST ? { hostKeyFingerprint: fingerprint(name) } : {}),
    });
    await settle(fleetOf(ROWS));
    const hosts = log.filter((r) => r.type === HOST).map(plain);
    expect(hosts).toHaveLength(3);
    const identities = hosts.map((h) => h.identity as Record<string, unknown>);
    expect(identities.map((i) => i.hostname)).toEqual(ROWS.map((r) => r.hostname));
    expect(new Set(identities.map((i) => JSON.stringify(i))).size).toBe(3);
    ROWS.forEach((row, i) => {
      expect(identities[i]).toEqual({
        hostname: row.hostname,
        authorizedKeys: [OPERATOR, ...(row.authorizedKeys ?? [])],
        management: { interface: "oob_net0", addresses: [row.managementAddress], gateway: "198.18.0.1" },
        hostKey: "generate",
      });
      expect(hosts[i]?.stage).toEqual(IDENTITY.stage);
    });
    ROWS.forEach((row, i) => {
      const address = row.managementAddress.split("/")[0];
      const pin = fingerprint(`${row.name}-host`);
      const host = hosts[i] as { ready: { ssh: { host: string; hostKey?: string } } };
      expect(host.ready.ssh.host).toBe(address);
      // The host's own probe is pinned by the provider to the key it generates (no hostKey from the SDK).
      expect(host.ready.ssh.hostKey).toBeUndefined();
      for (const [type, child] of [
        [UNDERLAY, `${row.name}-underlay`],
        [WORKLOAD, `${row.name}-agent`],
      ] as const) {
        const step = plain(log.find((r) => r.type === type && r.name === child));
        expect(step.connection).toEqual({ username: "root", host: address, hostKey: pin });
      }
    });
  });

  it("a CSV-like row (keys in one cell) and a row→identity function are read; a row without hostname is refused", async () => {
    const log = await installRecordingMocks({
      outputs: (type, name) => (type === HOST ? { hostKeyFingerprint: fingerprint(name) } : {}),
    });
    const csv = `name,bmc,hostname,managementAddress,authorizedKeys\na,https://127.0.0.1:1,a.lab,fd00::a/64,"${OPERATOR}\n${EXTRA}"\n`;
    const fleet = new DpuFleet("csv", {
      inventory: validateInventory(parseCsv(csv)),
      identity: shared<DpuInventoryEntry>(),
      node: (row) => ({
        host: { bmc: { endpoint: String(row.bmc) }, image: { url: "http://images.lab/x.iso" } },
        workloads: [{ connection: {}, name: "w", command: ["/bin/true"] }],
      }),
    });
    await outputValue(pulumi.all(fleet.nodes.map((n) => n.ready)));
    const host = plain(log.find((r) => r.type === HOST));
    expect((host.identity as { authorizedKeys: string[] }).authorizedKeys).toEqual([OPERATOR, EXTRA]);
    const w = plain(log.find((r) => r.type === WORKLOAD));
    expect(w.connection).toEqual({ host: "fd00::a", hostKey: fingerprint("a-host") });

    const byFunction = new DpuFleet<Row>("fn", {
      inventory: [ROWS[0] as Row],
      identity: {
        ...IDENTITY,
        row: (r) => ({ hostname: `x-${r.name}.lab`, managementAddress: "10.9.0.5/16" }),
      },
      node: (row) => ({ host: { bmc: { endpoint: row.bmc }, image: { url: "http://images.lab/x.iso" } } }),
    });
    await outputValue(pulumi.all(byFunction.nodes.map((n) => n.ready)));
    const fnHost = plain(log.filter((r) => r.type === HOST).at(-1));
    expect((fnHost.identity as { hostname: string }).hostname).toBe("x-dpu-0.lab");

    // The component registered before its rows were read: the runtime reports it half-built, as `pulumi up` would.
    const bad = await withCapturedRejections(async () => {
      try {
        new DpuFleet("bad", {
          inventory: [{ name: "n0", bmc: "https://127.0.0.1:1" }],
          identity: shared<DpuInventoryEntry>(),
          node: () => ({
            host: { bmc: { endpoint: "https://127.0.0.1:1" }, image: { url: "http://i/x.iso" } },
          }),
        });
        return "built";
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(bad.result).toBe("DpuFleet bad inventory[0]: hostname is required for the fleet's identity");
  });

  it("a DHCP identity gives no address: a connection without host is refused naming the node", async () => {
    await installRecordingMocks();
    const r = await withCapturedRejections(async () => {
      try {
        new DpuNode("n1", {
          host: {
            bmc: { endpoint: "https://127.0.0.1:1" },
            image: { url: "http://images.lab/x.iso" },
            identity: {
              hostname: "n1.lab",
              authorizedKeys: [OPERATOR],
              management: { interface: "eth0", dhcp: true },
            },
          },
          workloads: [{ connection: { username: "root" }, name: "w", command: ["/bin/true"] }],
        });
        return "built";
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(r.result).toMatch(/^DpuNode n1: a connection without host needs a static management address/);
  });
});
