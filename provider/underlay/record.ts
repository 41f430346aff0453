/** A route as this resource adds it (resolved names, canonical text). */
export interface RouteSpec {
  readonly destination: string;
  readonly via?: string;
  readonly dev?: string;
  readonly metric?: number;
  readonly table?: number;
}

/** What this resource changed on one link, so it can be undone exactly. */
export interface LinkRecord {
  /** MTU before this resource first changed it. */
  readonly mtuBefore?: number;
  /** Administrative state before this resource first changed it. */
  readonly stateBefore?: "up" | "down";
  /** Addresses this resource added (not those that were already there). */
  readonly addresses: readonly string[];
}

/**
 * What this resource added or changed on the DPU, kept on the DPU (`/var/lib/pulumi-dpu/underlay/<id>.json`)
 * and in outputs, so update and delete touch only that and leave everything else as it was.
 */
export interface UnderlayRecord {
  readonly version: 1;
  readonly links: Readonly<Record<string, LinkRecord>>;
  /** VLAN links this resource created. */
  readonly vlans: readonly { readonly name: string; readonly parent: string; readonly id: number }[];
  /** Routes this resource added; `replaced` is the route it overwrote, restored on delete. */
  readonly routes: readonly (RouteSpec & { readonly replaced?: RouteSpec })[];
  readonly hostnameBefore?: string;
  readonly resolvBefore?: string;
  /** Persistence files this resource wrote. */
  readonly files: readonly string[];
  /** The writer that owns this underlay (input `owner`); absent in records of older versions. */
  readonly owner?: string;
  /** Interfaces this underlay manages (resolved names): no other underlay may declare them. */
  readonly interfaces?: readonly string[];
}

/** The interfaces a record claims: its `interfaces`, or (older records) the links and VLAN parents it changed. */
export function claimedInterfaces(r: UnderlayRecord): string[] {
  if (r.interfaces !== undefined) return [...r.interfaces];
  return [...new Set([...Object.keys(r.links), ...r.vlans.map((v) => v.parent)])];
}

/** The record of a resource that changed nothing (yet). */
export const EMPTY_RECORD: UnderlayRecord = { version: 1, links: {}, vlans: [], routes: [], files: [] };
