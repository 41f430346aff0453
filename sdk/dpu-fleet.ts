import * as pulumi from "@pulumi/pulumi";
import { DpuNode, type DpuNodeArgs } from "./dpu-node";
import { type DpuInventoryEntry, loadInventoryFile, validateInventory } from "./inventory";
import { budgetVerdict, planWaves, type ResolvedRollout, type RolloutPolicy, resolveRollout } from "./waves";

/** The type token of {@link DpuFleet}. */
export const DPU_FLEET_TYPE = "dpu:index:DpuFleet";

/** Arguments of a {@link DpuFleet}. */
export interface DpuFleetArgs<E extends DpuInventoryEntry = DpuInventoryEntry> {
  /** The DPUs: an array, or the path of a `.yaml`/`.yml`, `.csv` or `.json` file (relative to the program). */
  readonly inventory: readonly E[] | string;
  /** Builds one node's arguments from its inventory entry (stack-wide credentials come from `dpu:` config). */
  readonly node: (entry: E, index: number) => DpuNodeArgs;
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
export class DpuFleet extends pulumi.ComponentResource {
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
  constructor(name: string, args: DpuFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DPU_FLEET_TYPE, name, {}, opts);
    const entries =
      typeof args.inventory === "string"
        ? loadInventoryFile(args.inventory)
        : validateInventory([...args.inventory], `DpuFleet ${name} inventory`);
    this.rollout = resolveRollout(args.rollout);
    const plan = planWaves(entries.length, this.rollout);
    const nodes: DpuNode[] = new Array(entries.length);
    const failedSoFar: string[] = [];
    // The fleet's own dependsOn holds back the first wave (children do not inherit a parent's dependsOn).
    const initial = opts?.dependsOn;
    let gate: Promise<pulumi.Resource[]> | undefined;
    plan.forEach((wave, w) => {
      const waveNodes = wave.map((i) => {
        const entry = entries[i] as DpuInventoryEntry;
        const node = new DpuNode(entry.name, args.node(entry, i), {
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
    this.waves = plan.map((wave) => ({ nodes: wave.map((i) => (entries[i] as DpuInventoryEntry).name) }));
    this.failed = pulumi.output(Promise.all(nodes.map((n) => settled(n))).then(() => [...failedSoFar]));
    this.registerOutputs({ waves: this.waves.map((x) => x.nodes), failed: this.failed });
  }
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
