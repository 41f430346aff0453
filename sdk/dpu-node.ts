import * as pulumi from "@pulumi/pulumi";
import { DpuHost } from "./dpu-host";
import { DpuUnderlay, type DpuUnderlayArgs } from "./dpu-underlay";
import { DpuWorkload, type DpuWorkloadArgs } from "./dpu-workload";
import {
  type NodeHostArgs,
  type NodeStepArgs,
  nodeConnection,
  nodeHost,
  seededAddress,
} from "./node-connections";

/** The type token of {@link DpuNode}. */
export const DPU_NODE_TYPE = "dpu:index:DpuNode";

/** Arguments of a {@link DpuNode}. */
export interface DpuNodeArgs {
  /**
   * The DPU's image and BMC, and its Day-0 `identity`. With a static management address in `identity`,
   * `ready.ssh.host` and every step's `connection.host` may be left out: they default to that address.
   */
  readonly host: NodeHostArgs;
  /** Its underlay networking (configured once the host is provisioned). */
  readonly underlay?: NodeStepArgs<DpuUnderlayArgs>;
  /** Its workloads (deployed once the underlay is configured, or the host when there is no underlay). */
  readonly workloads?: readonly NodeStepArgs<DpuWorkloadArgs>[];
}

/**
 * One DPU, end to end: {@link DpuHost} → {@link DpuUnderlay} → {@link DpuWorkload}s, each step depending on
 * the previous one, so the engine provisions the OS before configuring the network and deploys workloads last.
 * Re-imaging the host redeploys the workloads: the installed image is appended to each workload's `triggers`.
 * A `connection` given as a plain object without `hostKey` is pinned to the host key the DpuHost observed
 * (`hostKeyFingerprint`), which changes with each re-image; with `identity.hostKey: "generate"` that is the
 * key the provider generated and seeded, so the pin is exact from the first connection (no trust on first use).
 * A `connection` (or `ready.ssh`) without `host` connects to the first static address of
 * `host.identity.management`, the address the seed gave the DPU.
 *
 * `opts.dependsOn` is applied to the host (the first step), so a node waits for it as a whole.
 * Children are named `<name>-host`, `<name>-underlay`, `<name>-<workload name>`.
 */
export class DpuNode extends pulumi.ComponentResource {
  /** The node name given to the constructor. */
  readonly nodeName: string;
  /** The host. */
  readonly host: DpuHost;
  /** The underlay, when declared. */
  readonly underlay: DpuUnderlay | undefined;
  /** The workloads, in declaration order. */
  readonly workloads: readonly DpuWorkload[];
  /** Resolves (to the node name) once every step of the node succeeded; rejects if one failed. */
  readonly ready: pulumi.Output<string>;

  /**
   * @param name - node name.
   * @param args - the three steps.
   * @param opts - component options; `dependsOn` holds the whole node back.
   */
  constructor(name: string, args: DpuNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DPU_NODE_TYPE, name, {}, opts);
    this.nodeName = name;
    let seeded: pulumi.Input<string> | undefined;
    const address = () => {
      seeded ??= seededAddress(name, args.host.identity);
      return seeded;
    };
    this.host = new DpuHost(`${name}-host`, nodeHost(name, args.host, address), {
      parent: this,
      dependsOn: opts?.dependsOn,
    });
    const pinned = <T extends { connection: unknown }>(a: NodeStepArgs<T>): T =>
      nodeConnection<T>(name, a, address, this.host.hostKeyFingerprint);
    this.underlay = args.underlay
      ? new DpuUnderlay(`${name}-underlay`, pinned(args.underlay), { parent: this, dependsOn: [this.host] })
      : undefined;
    const before: pulumi.Resource = this.underlay ?? this.host;
    const imageTrigger = this.host.installedImage.apply((i) =>
      i ? `image:${i.sha256 ?? i.url}` : "image:none",
    );
    this.workloads = (args.workloads ?? []).map((w, i) => {
      const child = typeof w.name === "string" ? w.name : `workload-${i}`;
      const triggers = pulumi
        .all([pulumi.output(w.triggers ?? []), imageTrigger])
        .apply(([t, img]) => [...(t as (string | number | boolean)[]), img]);
      return new DpuWorkload(
        `${name}-${child}`,
        { ...pinned<DpuWorkloadArgs>(w), triggers },
        { parent: this, dependsOn: [before] },
      );
    });
    const last: pulumi.CustomResource[] = [
      this.host,
      ...(this.underlay ? [this.underlay] : []),
      ...this.workloads,
    ];
    this.ready = pulumi.all(last.map((r) => r.urn)).apply(() => name);
    this.registerOutputs({ ready: this.ready });
  }
}
