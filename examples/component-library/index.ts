/**
 * A small stack consuming the reusable Rack component: two racks, each rolled out canary-first.
 * Credentials come from the stack config (`dpu:bmcUsername`, `dpu:bmcPassword`, `dpu:sshPrivateKey`).
 */
import * as pulumi from "@pulumi/pulumi";
import { Rack } from "./rack";

const config = new pulumi.Config();
const image = { url: config.require("imageUrl"), sha256: config.get("imageSha256") };

const r12 = new Rack("r12", { inventoryFile: `${__dirname}/inventory/r12.csv`, rackId: 12, image });
const r13 = new Rack(
  "r13",
  { inventoryFile: `${__dirname}/inventory/r13.yaml`, rackId: 13, image },
  { dependsOn: [r12] },
);

/** Rollout plan per rack (what `pulumi preview` will walk through). */
export const plan = { r12: r12.waves, r13: r13.waves };
/** DPUs that failed, per rack. */
export const failed = { r12: r12.fleet.failed, r13: r13.fleet.failed };
