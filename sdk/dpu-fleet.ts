import * as pulumi from "@pulumi/pulumi";
import { DpuNode, type DpuNodeArgs } from "./dpu-node";
import { type DpuFleetIdentity, identityFromRow, rowIdentity } from "./fleet-identity";
import { type DpuInventoryEntry, loadInventoryFile, validateInventory } from "./inventory";
import { budgetVerdict, planWaves, type ResolvedRollout, type RolloutPolicy, resolveRollout } from "./waves";

/** The type token of {@link DpuFleet}. */
export const DPU_FLEET_TYPE = "dpu:index:DpuFleet";

/** What every inventory row has: a unique node name (a typed `interface Row { name: string; … }` fits). */
export interface DpuFleetRow {
  /** Unique node name; it prefixes the logical names of the node's resources. */
  readonly name: string;
}

/**
 * Arguments of a {@link DpuFleet}.
 *
 * @typeParam E - the inventory row type (a file inventory is read as rows of this type, unchecked beyond `name`).
 */
export interface DpuFleetArgs<E extends DpuFleetRow = DpuInventoryEntry> {
  /** The DPUs: an array, or the path of a `.yaml`/`.yml`, `.csv` or `.json` file (relative to the program). */
  readonly inventory: readonly E[] | string;
  /** Builds one node's arguments from its inventory entry (stack-wide credentials come from `dpu:` config). */
  readonly node: (entry: E, index: number) => DpuNodeArgs;
  /**
   * Day-0 identities: the fleet-wide part (operator keys, management interface, stage) declared once, each row
   * giving its own host name and management address, so one generic image comes up as N distinct DPUs, each
   * node's connections using the seeded address and pinned to the seeded host key. A node template that sets
   * `host.identity` itself keeps it.
   */
  readonly identity?: DpuFleetIdentity<E>;
  /** Waves: canary count, batch size, failure budget. */
  readonly rollout?: RolloutPolicy;
}

/** One planned wave. */
export interface FleetWave {
  /** Node names in the wave. */
  readonly nodes: readonly string[];
}

/**
 * A fleet of DPUs rolled out in waves: a canary wave, then batches, each wave starting only after the previous
 * one finished, and not at all once more nodes failed than the failure budget allows.
 *
 * Waves are ordinary engine dependencies: every resource of wave k+1 depends on the nodes of wave k (through
 * each node's host `dependsOn`). So `pulumi preview` shows the whole plan, the engine schedules it,
 * `--parallel` still bounds how many DPUs are provisioned at once, and nodes inside a wave run concurrently.
 * The dependency of a wave is a promise that settles when the previous wave has: it lists the nodes that
 * succeeded, or rejects with the reason when the failure budget is spent, which keeps every later wave from
 * being registered. (Counting failures needs `pulumi up --continue-on-error`; without it the engine stops at
 * the first failure, which is budget 0.)
 */
export class DpuFleet<E extends DpuFleetRow = DpuInventoryEntry> extends pulumi.ComponentResource {
  /** The nodes, in inventory order. */
  readonly nodes: readonly DpuNode[];
  /** The waves, in rollout order. */
  readonly waves: readonly FleetWave[];
  /** The rollout policy in force. */
  readonly rollout: ResolvedRollout;
  /** Node names that failed (after the rollout settles; failures counted with --continue-on-error). */
  readonly failed: pulumi.Output<string[]>;

  /**
   * @param name - fleet name (prefix of nothing: node names come from the inventory).
   * @param args - inventory, node template and rollout policy.
   * @param opts - component options (e.g. `dependsOn` holds back the whole fleet).
   */
  constructor(name: string, args: DpuFleetArgs<E>, opts?: pulumi.ComponentResourceOptions) {
    super(DPU_FLEET_TYPE, name, {}, opts);
    const source = typeof args.inventory === "string" ? args.inventory : `DpuFleet ${name} inventory`;
    const entries = (typeof args.inventory === "string"
      ? loadInventoryFile(args.inventory)
      : validateInventory([...args.inventory], source)) as unknown as E[];
    this.rollout = resolveRollout(args.rollout);
    const plan = planWaves(entries.length, this.rollout);
    const nodes: DpuNode[] = new Array(entries.length);
    const failedSoFar: string[] = [];
    // The fleet's own dependsOn holds back the first wave (children do not inherit a parent's dependsOn).
    const initial = opts?.dependsOn;
    let gate: Promise<pulumi.Resource[]> | undefined;
    plan.forEach((wave, w) => {
      const waveNodes = wave.map((i) => {
        const entry = entries[i] as E;
        const node = new DpuNode(entry.name, nodeArgs(args, entry, i, `${source}[${i}]`), {
          parent: this,
          ...(gate ? { dependsOn: gate } : initial ? { dependsOn: initial } : {}),
        });
        nodes[i] = node;
        return node;
      });
      gate = waveGate(name, w + 1, gate, waveNodes, failedSoFar, this.rollout.failureBudget);
      // The last gate is nobody's dependency: keep its rejection from being reported as unhandled.
      gate.catch(() => undefined);
    });
    this.nodes = nodes;
    this.waves = plan.map((wave) => ({ nodes: wave.map((i) => (entries[i] as E).name) }));
    this.failed = pulumi.output(Promise.all(nodes.map((n) => settled(n))).then(() => [...failedSoFar]));
    this.registerOutputs({ waves: this.waves.map((x) => x.nodes), failed: this.failed });
  }
}

/** One node's arguments: the template's, with the row's identity and the fleet's stage where it sets none. */
function nodeArgs<E extends DpuFleetRow>(
  args: DpuFleetArgs<E>,
  entry: E,
  i: number,
  where: string,
): DpuNodeArgs {
  const made = args.node(entry, i);
  const id = args.identity;
  if (!id) return made;
  const own = id.row ? id.row(entry, i) : identityFromRow(entry, where);
  return {
    ...made,
    host: {
      ...made.host,
      identity: made.host.identity ?? rowIdentity(id, own),
      stage: made.host.stage ?? (typeof id.stage === "function" ? id.stage(entry, i) : id.stage),
    },
  };
}

/** Resolves true when the node's resources all registered, false when one failed. Never rejects. */
function settled(node: DpuNode): Promise<boolean> {
  return new Promise((resolve) => {
    pulumi.recover(
      node.ready.apply(() => {
        resolve(true);
        return "";
      }),
      () => {
        resolve(false);
        return "";
      },
    );
  });
}

/**
 * The dependency of wave `wave + 1`: settles after every node of `wave` has, resolving to the nodes that
 * succeeded, or rejecting when the failures so far exceed the budget (or when `previous` rejected).
 */
async function waveGate(
  fleet: string,
  wave: number,
  previous: Promise<pulumi.Resource[]> | undefined,
  nodes: readonly DpuNode[],
  failedSoFar: string[],
  failureBudget: number,
): Promise<pulumi.Resource[]> {
  // A wave held back by an earlier gate did not fail: repeat the earlier reason, count nothing.
  if (previous) await previous;
  const ok = await Promise.all(nodes.map((n) => settled(n)));
  const passed: pulumi.Resource[] = [];
  ok.forEach((good, i) => {
    const node = nodes[i] as DpuNode;
    if (good) passed.push(node);
    else failedSoFar.push(node.nodeName);
  });
  const why = budgetVerdict(failedSoFar, failureBudget);
  if (why) throw new Error(`DpuFleet ${fleet}: the waves after wave ${wave} were not started: ${why}`);
  return passed;
}
