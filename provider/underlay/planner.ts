import { ValidationError } from "../errors";
import { canonicalCidr, canonicalIp } from "./cidr";
import type { ObservedLink, ObservedRoute, ObservedState } from "./observed";
import { EMPTY_RECORD, type LinkRecord, type RouteSpec, type UnderlayRecord } from "./record";

/** The declared configuration the planner works from (the shape of DpuUnderlay inputs). */
export interface DesiredUnderlay {
  readonly hostname?: string;
  readonly dns?: { readonly servers: readonly string[]; readonly search: readonly string[] };
  readonly interfaces: readonly {
    readonly name?: string;
    readonly mac?: string;
    readonly mtu?: number;
    readonly addresses: readonly string[];
    readonly state: "up" | "down";
    readonly vlans: readonly {
      readonly id: number;
      readonly name?: string;
      readonly mtu?: number;
      readonly addresses: readonly string[];
    }[];
  }[];
  readonly routes: readonly {
    readonly destination: string;
    readonly via?: string;
    readonly dev?: string;
    readonly metric?: number;
    readonly table?: number;
  }[];
}

/** One change with its undo (both `ip -batch` lines). */
interface Step {
  readonly phase: number;
  readonly apply: string;
  readonly undo: string;
}

/** The ordered minimal change set, its rollback and the record to install once confirmed. */
export interface UnderlayPlan {
  /** `ip -batch` lines, in order. */
  readonly apply: readonly string[];
  /** `ip -batch` lines restoring the observed state, in the order they run (the undo of every step). */
  readonly restore: readonly string[];
  /** The undo of each step of {@link apply} (same index), in the order its lines run; empty when none. */
  readonly undo: readonly (readonly string[])[];
  readonly hostname?: { readonly next: string; readonly previous: string };
  readonly resolv?: { readonly next: string; readonly previous: string };
  readonly record: UnderlayRecord;
  /** Link names each declared interface resolved to (declaration order), VLAN names included per interface. */
  readonly resolved: readonly { readonly name: string; readonly vlans: readonly string[] }[];
  /** Links of the management path this plan changes. */
  readonly touchesManagement: readonly string[];
  /** True when nothing needs doing on the DPU. */
  readonly empty: boolean;
}

// Phases: removals first (routes, addresses, VLAN links), then link settings, links, addresses, routes.
const P = {
  delRoute: 0,
  delAddr: 1,
  delVlan: 2,
  mtu: 3,
  addVlan: 4,
  vlanMtu: 5,
  linkUp: 6,
  addAddr: 7,
  state: 8,
  addRoute: 9,
};

/** `ip route` arguments of a route spec. */
export function routeArgs(r: RouteSpec): string {
  const dst =
    r.destination === "default" ? "0.0.0.0/0" : r.destination === "default6" ? "::/0" : r.destination;
  return [
    dst,
    ...(r.via !== undefined ? ["via", r.via] : []),
    ...(r.dev !== undefined ? ["dev", r.dev] : []),
    ...(r.metric !== undefined ? ["metric", String(r.metric)] : []),
    ...(r.table !== undefined ? ["table", String(r.table)] : []),
  ].join(" ");
}

function sameRouteKey(a: RouteSpec, b: ObservedRoute | RouteSpec): boolean {
  const isV6 = (r: RouteSpec) => r.destination === "default6" || r.destination.includes(":");
  const metricOf = (r: RouteSpec) => r.metric ?? (isV6(r) ? 1024 : 0);
  return (
    a.destination === b.destination && (a.table ?? 254) === (b.table ?? 254) && metricOf(a) === metricOf(b)
  );
}

/** Renders resolv.conf for the declared resolver. */
export function renderResolvConf(dns: NonNullable<DesiredUnderlay["dns"]>): string {
  const lines = ["# Managed by pulumi-dpu (DpuUnderlay)."];
  if (dns.search.length > 0) lines.push(`search ${dns.search.join(" ")}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  return `${lines.join("\n")}\n`;
}

function resolveLink(
  links: readonly ObservedLink[],
  sel: { name?: string; mac?: string },
  path: string,
): ObservedLink {
  const found = links.find(
    (l) =>
      (sel.name === undefined || l.name === sel.name) &&
      (sel.mac === undefined || l.mac === sel.mac.toLowerCase()),
  );
  if (found === undefined) {
    const present = `present: ${links.map((l) => `${l.name} ${l.mac}`).join(", ")}`;
    const byName = sel.name !== undefined ? links.find((l) => l.name === sel.name) : undefined;
    const byMac = sel.mac !== undefined ? links.find((l) => l.mac === sel.mac?.toLowerCase()) : undefined;
    let problem: { property: string; reason: string };
    if (sel.name !== undefined && sel.mac !== undefined && (byName || byMac)) {
      // Both given and they disagree: say which port each one names.
      problem = {
        property: `${path}.mac`,
        reason: byMac
          ? `MAC ${sel.mac} belongs to ${byMac.name}, not ${sel.name}${byName ? ` (${sel.name} has MAC ${byName.mac})` : ""}; set name and mac of the same port, or only one of them (${present})`
          : `${sel.name} has MAC ${byName?.mac}, not ${sel.mac}, and no interface on the DPU has MAC ${sel.mac}; set name and mac of the same port, or only one of them (${present})`,
      };
    } else {
      const what = sel.name !== undefined ? `named ${sel.name}` : `with MAC ${sel.mac}`;
      problem = {
        property: `${path}.${sel.name !== undefined ? "name" : "mac"}`,
        reason: `no interface ${what} on the DPU (${present})`,
      };
    }
    throw new ValidationError("DpuUnderlay", [problem]);
  }
  return found;
}

/** The interface carrying the SSH session: the link holding the address we connected to. */
export function managementLink(obs: ObservedState, connectHost: string): string | undefined {
  const candidates = [connectHost, obs.sshServerAddress].filter((x): x is string => x !== undefined);
  for (const c of candidates) {
    let ip: string;
    try {
      ip = canonicalIp(c);
    } catch {
      continue;
    }
    const link = obs.links.find((l) => l.addresses.some((a) => a.split("/")[0] === ip));
    if (link) return link.name;
  }
  return undefined;
}

/**
 * Plans the minimal ordered changes from `obs` to `desired`, undoing what the previous record added but is no
 * longer declared. Only declared links are touched; addresses and routes that existed before are never removed.
 */
export function planUnderlay(
  desired: DesiredUnderlay,
  obs: ObservedState,
  mgmt: string | undefined,
): UnderlayPlan {
  const prev = obs.record ?? EMPTY_RECORD;
  const steps: Step[] = [];
  const links: Record<string, LinkRecord> = {};
  const vlansCreated: { name: string; parent: string; id: number }[] = [];
  const touched = new Set<string>();
  const resolved: { name: string; vlans: string[] }[] = [];
  const byName = new Map(obs.links.map((l) => [l.name, l]));
  const step = (phase: number, apply: string, undo: string, link: string) => {
    steps.push({ phase, apply, undo });
    touched.add(link);
  };

  /** Plans MTU, addresses and state of one link (existing or about to be created). */
  const planLink = (
    name: string,
    current: ObservedLink | undefined,
    want: { mtu?: number; addresses: readonly string[]; state: "up" | "down" },
    phases: { mtu: number },
  ) => {
    const before = prev.links[name] ?? { addresses: [] };
    let mtuBefore = before.mtuBefore;
    let stateBefore = before.stateBefore;
    const curMtu = current?.mtu;
    const targetMtu = want.mtu ?? (current ? before.mtuBefore : undefined);
    if (targetMtu !== undefined && curMtu !== undefined && targetMtu !== curMtu) {
      step(phases.mtu, `link set dev ${name} mtu ${targetMtu}`, `link set dev ${name} mtu ${curMtu}`, name);
    } else if (targetMtu !== undefined && current === undefined) {
      step(phases.mtu, `link set dev ${name} mtu ${targetMtu}`, "", name);
    }
    if (want.mtu !== undefined && current !== undefined) mtuBefore = mtuBefore ?? current.mtu;
    if (want.mtu === undefined) mtuBefore = undefined;
    const have = new Set(current?.addresses ?? []);
    const wanted = want.addresses.map(canonicalCidr);
    const ours = new Set(before.addresses);
    const added: string[] = [];
    for (const a of wanted) {
      if (!have.has(a)) {
        step(P.addAddr, `address add ${a} dev ${name}`, current ? `address del ${a} dev ${name}` : "", name);
        added.push(a);
      } else if (ours.has(a)) added.push(a);
    }
    for (const a of before.addresses) {
      if (!wanted.includes(a) && have.has(a))
        step(P.delAddr, `address del ${a} dev ${name}`, `address add ${a} dev ${name}`, name);
    }
    const isUp = current?.up ?? false;
    if ((want.state === "up") !== isUp || current === undefined) {
      if (current !== undefined || want.state === "up") {
        step(
          want.state === "down" ? P.state : P.linkUp,
          `link set dev ${name} ${want.state}`,
          current ? `link set dev ${name} ${isUp ? "up" : "down"}` : "",
          name,
        );
      }
      if (current !== undefined) stateBefore = stateBefore ?? (isUp ? "up" : "down");
    }
    links[name] = {
      ...(mtuBefore !== undefined ? { mtuBefore } : {}),
      ...(stateBefore !== undefined ? { stateBefore } : {}),
      addresses: added,
    };
  };

  const declaredVlans = new Set<string>();
  desired.interfaces.forEach((itf, i) => {
    const link = resolveLink(obs.links, itf, `interfaces[${i}]`);
    const vlanNames: string[] = [];
    planLink(link.name, link, itf, { mtu: P.mtu });
    itf.vlans.forEach((v, j) => {
      const name = v.name ?? `${link.name}.${v.id}`;
      vlanNames.push(name);
      declaredVlans.add(name);
      const existing = byName.get(name);
      if (
        existing &&
        (existing.kind !== "vlan" || existing.vlanId !== v.id || existing.parent !== link.name)
      ) {
        throw new ValidationError("DpuUnderlay", [
          {
            property: `interfaces[${i}].vlans[${j}]`,
            reason: `a link named ${name} exists on the DPU but is not VLAN ${v.id} on ${link.name}`,
          },
        ]);
      }
      const createdByUs = prev.vlans.some((x) => x.name === name) || existing === undefined;
      if (!existing) {
        step(
          P.addVlan,
          `link add link ${link.name} name ${name} type vlan id ${v.id}`,
          `link del dev ${name}`,
          name,
        );
      }
      if (createdByUs) vlansCreated.push({ name, parent: link.name, id: v.id });
      planLink(
        name,
        existing,
        { ...(v.mtu !== undefined ? { mtu: v.mtu } : {}), addresses: v.addresses, state: "up" },
        { mtu: P.vlanMtu },
      );
    });
    resolved.push({ name: link.name, vlans: vlanNames });
  });

  // VLAN links we created that are no longer declared.
  for (const v of prev.vlans) {
    if (declaredVlans.has(v.name)) continue;
    const cur = byName.get(v.name);
    if (!cur) continue;
    // In the order it runs: the link first, then its MTU, addresses and state.
    const recreate = [
      `link add link ${v.parent} name ${v.name} type vlan id ${v.id}`,
      `link set dev ${v.name} mtu ${cur.mtu}`,
      ...cur.addresses.map((a) => `address add ${a} dev ${v.name}`),
      ...(cur.up ? [`link set dev ${v.name} up`] : []),
    ];
    steps.push({ phase: P.delVlan, apply: `link del dev ${v.name}`, undo: recreate.join("\n") });
    touched.add(v.parent);
  }
  // Links we changed that are no longer declared: undo our addresses, MTU and state.
  for (const [name, rec] of Object.entries(prev.links)) {
    if (links[name] !== undefined || prev.vlans.some((v) => v.name === name && !declaredVlans.has(v.name)))
      continue;
    const cur = byName.get(name);
    if (!cur) continue;
    for (const a of rec.addresses) {
      if (cur.addresses.includes(a))
        step(P.delAddr, `address del ${a} dev ${name}`, `address add ${a} dev ${name}`, name);
    }
    if (rec.mtuBefore !== undefined && rec.mtuBefore !== cur.mtu) {
      step(P.mtu, `link set dev ${name} mtu ${rec.mtuBefore}`, `link set dev ${name} mtu ${cur.mtu}`, name);
    }
    if (rec.stateBefore !== undefined && (rec.stateBefore === "up") !== cur.up) {
      step(
        P.state,
        `link set dev ${name} ${rec.stateBefore}`,
        `link set dev ${name} ${cur.up ? "up" : "down"}`,
        name,
      );
    }
  }

  // Routes.
  const routes: (RouteSpec & { replaced?: RouteSpec })[] = [];
  const wantedRoutes: RouteSpec[] = desired.routes.map((r) => ({
    destination:
      r.destination === "default" || r.destination === "default6"
        ? r.destination
        : canonicalCidr(r.destination),
    ...(r.via !== undefined ? { via: canonicalIp(r.via) } : {}),
    ...(r.dev !== undefined ? { dev: r.dev } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
    ...(r.table !== undefined ? { table: r.table } : {}),
  }));
  for (const r of wantedRoutes) {
    const cur = obs.routes.find((o) => sameRouteKey(r, o));
    const prevRec = prev.routes.find((p) => sameRouteKey(r, p));
    const matches =
      cur && (r.via === undefined || cur.via === r.via) && (r.dev === undefined || cur.dev === r.dev);
    if (!cur) {
      steps.push({
        phase: P.addRoute,
        apply: `route replace ${routeArgs(r)}`,
        undo: `route del ${routeArgs(r)}`,
      });
      routes.push({ ...r, ...(prevRec?.replaced ? { replaced: prevRec.replaced } : {}) });
    } else if (!matches) {
      const old: RouteSpec = { ...cur };
      steps.push({
        phase: P.addRoute,
        apply: `route replace ${routeArgs(r)}`,
        undo: `route replace ${routeArgs(old)}`,
      });
      routes.push({ ...r, replaced: prevRec?.replaced ?? old });
    } else if (prevRec) routes.push({ ...r, ...(prevRec.replaced ? { replaced: prevRec.replaced } : {}) });
    if (r.dev !== undefined) touched.add(r.dev);
  }
  for (const p of prev.routes) {
    if (wantedRoutes.some((r) => sameRouteKey(r, p))) continue;
    const cur = obs.routes.find((o) => sameRouteKey(p, o));
    if (!cur) continue;
    if (p.replaced) {
      steps.push({
        phase: P.delRoute,
        apply: `route replace ${routeArgs(p.replaced)}`,
        undo: `route replace ${routeArgs(cur)}`,
      });
    } else {
      steps.push({
        phase: P.delRoute,
        apply: `route del ${routeArgs(p)}`,
        undo: `route replace ${routeArgs(cur)}`,
      });
    }
  }

  // Hostname and resolver.
  let hostname: UnderlayPlan["hostname"];
  let hostnameBefore = prev.hostnameBefore;
  const wantHost = desired.hostname ?? prev.hostnameBefore;
  if (wantHost !== undefined && wantHost !== obs.hostname)
    hostname = { next: wantHost, previous: obs.hostname };
  if (desired.hostname !== undefined) hostnameBefore = hostnameBefore ?? obs.hostname;
  else hostnameBefore = undefined;
  let resolv: UnderlayPlan["resolv"];
  let resolvBefore = prev.resolvBefore;
  const wantResolv = desired.dns ? renderResolvConf(desired.dns) : prev.resolvBefore;
  if (wantResolv !== undefined && wantResolv !== obs.resolv)
    resolv = { next: wantResolv, previous: obs.resolv };
  if (desired.dns) resolvBefore = resolvBefore ?? obs.resolv;
  else resolvBefore = undefined;

  const ordered = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.phase - b.s.phase || a.i - b.i);
  const apply = ordered.map((o) => o.s.apply);
  const undo = ordered.map((o) => (o.s.undo === "" ? [] : o.s.undo.split("\n")));
  const restore = [...undo].reverse().flat();
  const record: UnderlayRecord = {
    version: 1,
    links,
    vlans: vlansCreated,
    routes,
    ...(hostnameBefore !== undefined ? { hostnameBefore } : {}),
    ...(resolvBefore !== undefined ? { resolvBefore } : {}),
    files: prev.files,
  };
  const touchesManagement = mgmt !== undefined && touched.has(mgmt) ? [mgmt] : [];
  return {
    apply,
    restore,
    undo,
    ...(hostname ? { hostname } : {}),
    ...(resolv ? { resolv } : {}),
    record,
    resolved,
    touchesManagement,
    empty: apply.length === 0 && !hostname && !resolv,
  };
}
