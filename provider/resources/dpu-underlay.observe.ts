import { createHash } from "node:crypto";
import { canonicalCidr, canonicalIp, cidrsOverlap, parseCidr } from "../underlay/cidr";
import type { ObservedState } from "../underlay/observed";
import type { DesiredUnderlay } from "../underlay/planner";
import type { UnderlayRecord } from "../underlay/record";
import type { RenderInput } from "../underlay/render-model";
import type { DpuUnderlayInputs } from "./dpu-underlay.schema";

/** Observed state of one declared interface (outputs). */
export interface ObservedInterface {
  readonly name: string;
  readonly mac: string;
  readonly mtu: number;
  readonly operstate: string;
  readonly state: "up" | "down";
  readonly addresses: string[];
  readonly vlans: {
    name: string;
    id: number;
    mtu: number;
    operstate: string;
    addresses: string[];
    present: boolean;
  }[];
  readonly present: boolean;
}

/** Outputs of DpuUnderlay: the inputs plus what the DPU shows. */
export interface DpuUnderlayOutputs extends DpuUnderlayInputs {
  readonly observedInterfaces: ObservedInterface[];
  readonly observedRoutes: {
    destination: string;
    via?: string;
    dev?: string;
    metric?: number;
    table?: number;
    present: boolean;
  }[];
  readonly observedHostname: string;
  readonly managementInterface?: string;
  /** Persistence backend in use and the files written (`none`: runtime only, lost on reboot). */
  readonly persistence: {
    backend: "netplan" | "networkmanager" | "networkd" | "none";
    files: string[];
    note: string;
  };
  /** sha256 of the applied configuration (resolved links, routes, hostname, resolver). */
  readonly appliedDigest: string;
  /** What this resource added or changed on the DPU (also kept there), so delete removes only that. */
  readonly added: UnderlayRecord;
}

/** The render/digest view of the inputs with link names resolved. */
export function renderInput(
  id: string,
  inputs: DpuUnderlayInputs,
  resolved: readonly { name: string; vlans: readonly string[] }[],
): RenderInput {
  const links: RenderInput["links"] = inputs.interfaces.map((itf, i) => ({
    name: resolved[i]?.name ?? itf.name ?? "",
    ...(itf.mac !== undefined ? { mac: itf.mac.toLowerCase() } : {}),
    ...(itf.mtu !== undefined ? { mtu: itf.mtu } : {}),
    addresses: itf.addresses.map(canonicalCidr),
    state: itf.state,
    vlans: itf.vlans.map((v, j) => ({
      name: resolved[i]?.vlans[j] ?? v.name ?? `${itf.name}.${v.id}`,
      id: v.id,
      ...(v.mtu !== undefined ? { mtu: v.mtu } : {}),
      addresses: v.addresses.map(canonicalCidr),
    })),
  }));
  return {
    id,
    links,
    routes: inputs.routes.map((r) => (r.dev !== undefined ? r : withDeviceOf(r, links))),
    ...(inputs.dns ? { dns: inputs.dns } : {}),
  };
}

/**
 * A route declared without `dev` gets the declared link or VLAN whose subnet holds its gateway: persistence
 * backends attach routes to an interface (the kernel picks one at run time, a networkd or netplan file must
 * name it). Left without `dev` when no declared subnet holds the gateway.
 */
function withDeviceOf(
  r: DpuUnderlayInputs["routes"][number],
  links: RenderInput["links"],
): DpuUnderlayInputs["routes"][number] {
  if (r.via === undefined) return r;
  const gw = parseCidr(`${r.via}/${r.via.includes(":") ? 128 : 32}`);
  if (!gw) return r;
  const holds = (addresses: readonly string[]) =>
    addresses.some((a) => {
      const c = parseCidr(a);
      return c !== undefined && cidrsOverlap(c, gw);
    });
  for (const l of links) {
    if (holds(l.addresses)) return { ...r, dev: l.name };
    for (const v of l.vlans) if (holds(v.addresses)) return { ...r, dev: v.name };
  }
  return r;
}

/** Digest of what was applied. */
export function appliedDigest(r: RenderInput, hostname: string | undefined): string {
  return createHash("sha256")
    .update(JSON.stringify({ links: r.links, routes: r.routes, dns: r.dns, hostname }))
    .digest("hex");
}

/** The desired configuration as the planner takes it. */
export function desiredOf(i: DpuUnderlayInputs): DesiredUnderlay {
  return {
    ...(i.hostname !== undefined ? { hostname: i.hostname } : {}),
    ...(i.dns ? { dns: i.dns } : {}),
    interfaces: i.interfaces,
    routes: i.routes,
  };
}

function findLink(obs: ObservedState, sel: { name?: string; mac?: string }) {
  return obs.links.find(
    (l) =>
      (sel.name === undefined || l.name === sel.name) &&
      (sel.mac === undefined || l.mac === sel.mac.toLowerCase()),
  );
}

/** Observed state of the declared interfaces and routes. */
export function observedOutputs(inputs: DpuUnderlayInputs, obs: ObservedState) {
  const observedInterfaces: ObservedInterface[] = inputs.interfaces.map((itf) => {
    const l = findLink(obs, itf);
    const name = l?.name ?? itf.name ?? "";
    return {
      name,
      mac: l?.mac ?? itf.mac ?? "",
      mtu: l?.mtu ?? 0,
      operstate: l?.operstate ?? "ABSENT",
      state: l?.up ? "up" : "down",
      addresses: [...(l?.addresses ?? [])],
      present: l !== undefined,
      vlans: itf.vlans.map((v) => {
        const vn = v.name ?? `${name}.${v.id}`;
        const vl = obs.links.find((x) => x.name === vn);
        return {
          name: vn,
          id: v.id,
          mtu: vl?.mtu ?? 0,
          operstate: vl?.operstate ?? "ABSENT",
          addresses: [...(vl?.addresses ?? [])],
          present: vl !== undefined,
        };
      }),
    };
  });
  const observedRoutes = inputs.routes.map((r) => {
    const dst =
      r.destination === "default" || r.destination === "default6"
        ? r.destination
        : canonicalCidr(r.destination);
    const isV6 = dst === "default6" || dst.includes(":");
    const o = obs.routes.find(
      (x) =>
        x.destination === dst &&
        (x.table ?? 254) === (r.table ?? 254) &&
        // An undeclared metric matches any: the kernel (0 for IPv4, 1024 for IPv6) and persistence backends
        // (networkd, NetworkManager) pick different defaults, and a reboot must not look like drift.
        (r.metric === undefined || (x.metric ?? (isV6 ? 1024 : 0)) === r.metric) &&
        (r.via === undefined || x.via === canonicalIp(r.via)) &&
        (r.dev === undefined || x.dev === r.dev),
    );
    return { ...r, present: o !== undefined };
  });
  return { observedInterfaces, observedRoutes, observedHostname: obs.hostname };
}

/**
 * The declared inputs rewritten with what the DPU shows, so `pulumi refresh` + preview shows drift exactly:
 * a declared address that vanished is dropped, MTU and state are the observed ones, absent routes disappear.
 */
export function inputsAsObserved(inputs: DpuUnderlayInputs, obs: ObservedState): DpuUnderlayInputs {
  return {
    ...inputs,
    ...(inputs.hostname !== undefined ? { hostname: obs.hostname } : {}),
    interfaces: inputs.interfaces.map((itf) => {
      const l = findLink(obs, itf);
      if (!l) return { ...itf, addresses: [], vlans: [] };
      const have = new Set(l.addresses);
      return {
        ...itf,
        ...(itf.mtu !== undefined ? { mtu: l.mtu } : {}),
        state: l.up ? "up" : "down",
        addresses: itf.addresses.filter((a) => have.has(canonicalCidr(a))),
        vlans: itf.vlans.flatMap((v) => {
          const vl = obs.links.find((x) => x.name === (v.name ?? `${l.name}.${v.id}`));
          if (!vl) return [];
          const vh = new Set(vl.addresses);
          return [
            {
              ...v,
              ...(v.mtu !== undefined ? { mtu: vl.mtu } : {}),
              addresses: v.addresses.filter((a) => vh.has(canonicalCidr(a))),
            },
          ];
        }),
      };
    }),
    routes: inputs.routes.filter(
      (_, i) => observedOutputs({ ...inputs, interfaces: [] }, obs).observedRoutes[i]?.present,
    ),
  };
}
