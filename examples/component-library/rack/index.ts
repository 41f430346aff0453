/**
 * A reusable "rack" of DPUs for the platform team: one call declares every DPU of a rack from its inventory
 * file, with the team's conventions baked in (image, underlay addressing per rack, the telemetry agent) and a
 * conservative rollout (one canary, then batches of `batchSize`, stop at the first failure).
 *
 * Stacks consume it as `new Rack("r12", { inventoryFile: "r12.csv", rackId: 12, image })`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DpuFleet, type DpuInventoryEntry, type RolloutPolicy } from "pulumi-dpu";

/** Arguments of a {@link Rack}. */
export interface RackArgs {
  /** CSV/YAML/JSON inventory: one row per DPU with `name`, `bmc`, `mgmt` (SSH address) and `port`. */
  readonly inventoryFile?: string;
  /** Or the inventory itself. */
  readonly inventory?: readonly DpuInventoryEntry[];
  /** Rack number: the data-port subnet is 198.19.<rackId>.0/24. */
  readonly rackId: number;
  /** OS image every DPU of the rack runs. */
  readonly image: { readonly url: pulumi.Input<string>; readonly sha256?: pulumi.Input<string> };
  /** Rollout override (default: canary 1, batches of 4, failure budget 0). */
  readonly rollout?: RolloutPolicy;
}

/** A rack of DPUs: a {@link DpuFleet} with the platform team's conventions. */
export class Rack extends pulumi.ComponentResource {
  /** The fleet inside the rack. */
  readonly fleet: DpuFleet;
  /** Node names per rollout wave. */
  readonly waves: string[][];

  constructor(name: string, args: RackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("acme:dpu:Rack", name, {}, opts);
    const inventory = args.inventoryFile ?? args.inventory;
    if (!inventory) throw new Error(`Rack ${name}: set inventoryFile or inventory`);
    this.fleet = new DpuFleet(
      `${name}-fleet`,
      {
        inventory,
        rollout: args.rollout ?? { canary: 1, batchSize: 4, failureBudget: 0 },
        node: (e, i) => {
          const ssh = { host: String(e.mgmt), port: Number(e.port ?? 22), username: "root" };
          return {
            host: {
              bmc: { endpoint: String(e.bmc) },
              image: args.image,
              ready: { ssh },
            },
            underlay: {
              connection: ssh,
              interfaces: [{ name: "p0", mtu: 9000, addresses: [`198.19.${args.rackId}.${i + 1}/24`] }],
            },
            workloads: [
              {
                connection: ssh,
                name: "telemetry",
                runtime: "process",
                command: ["/usr/bin/env", "sh", "-c", "exec sleep infinity"],
                env: { RACK: String(args.rackId), NODE: e.name },
              },
            ],
          };
        },
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.waves = this.fleet.waves.map((w) => [...w.nodes]);
    this.registerOutputs({ waves: this.waves, failed: this.fleet.failed });
  }
}
