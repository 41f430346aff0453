import type { InputProblem } from "../errors";
import { type Cidr, canonicalCidr, canonicalIp, cidrsOverlap, isIp, parseCidr } from "./cidr";
import type { ObservedRoute, ObservedState } from "./observed";
import type { DesiredUnderlay, UnderlayPlan } from "./planner";

const OPT_IN =
  "set safety.allowManagementInterface: true to allow it (the rollback stays armed and restores the DPU if the session is lost)";

/** A host address as a full-length prefix. */
function hostCidr(ip: string): Cidr | undefined {
  return parseCidr(`${ip}/${ip.includes(":") ? 128 : 32}`);
}

/** Destination of a route (declared or observed) as a prefix; `default`/`default6` are the zero prefixes. */
function destinationCidr(destination: string): Cidr | undefined {
  if (destination === "default") return parseCidr("0.0.0.0/0");
  if (destination === "default6") return parseCidr("::/0");
  return parseCidr(destination);
}

const metricOf = (r: { metric?: number }, c: Cidr) => r.metric ?? (c.family === 6 ? 1024 : 0);
const inMainTable = (r: { table?: number }) => r.table === undefined || r.table === 254;

/** The main-table route the kernel picks for `ip`: longest prefix, then lowest metric. */
function routeFor(
  ip: Cidr,
  routes: readonly ObservedRoute[],
): { route: ObservedRoute; dst: Cidr } | undefined {
  let best: { route: ObservedRoute; dst: Cidr } | undefined;
  for (const route of routes) {
    if (!inMainTable(route)) continue;
    const dst = destinationCidr(route.destination);
    if (!dst || !cidrsOverlap(dst, ip)) continue;
    if (
      !best ||
      dst.prefix > best.dst.prefix ||
      (dst.prefix === best.dst.prefix && metricOf(route, dst) < metricOf(best.route, best.dst))
    )
      best = { route, dst };
  }
  return best;
}

/** One address the management path depends on, with what it is and the route that reaches it today. */
interface PathAddress {
  readonly ip: string;
  readonly what: string;
  readonly cidr: Cidr;
  readonly via?: { route: ObservedRoute; dst: Cidr };
}

/**
 * The addresses the SSH session depends on: the client as the DPU sees it (the provider or the last jump host)
 * and the gateway toward it; when the DPU did not expose the client, the gateways of the default routes through
 * the management interface.
 */
function pathAddresses(obs: ObservedState, mgmt: string | undefined): PathAddress[] {
  const out: PathAddress[] = [];
  const add = (ip: string, what: string) => {
    const cidr = hostCidr(ip);
    if (!cidr || out.some((p) => p.ip === ip)) return;
    const via = routeFor(cidr, obs.routes);
    out.push({ ip, what, cidr, ...(via ? { via } : {}) });
  };
  if (obs.sshClientAddress !== undefined) {
    add(obs.sshClientAddress, "the SSH client address (as the DPU sees the session)");
    const gw = out[0]?.via?.route.via;
    if (gw !== undefined && isIp(gw)) add(canonicalIp(gw), "the gateway the SSH session goes through");
  } else if (mgmt !== undefined) {
    for (const r of obs.routes) {
      if (inMainTable(r) && r.dev === mgmt && r.via !== undefined && /^default6?$/.test(r.destination))
        add(r.via, `the management gateway (default route through ${mgmt})`);
    }
  }
  return out;
}

function describeRoute(r: ObservedRoute): string {
  return [r.destination, r.via ? `via ${r.via}` : "", r.dev ? `dev ${r.dev}` : ""].filter(Boolean).join(" ");
}

/**
 * Every declared change that can take the SSH session's path away, with the field to blame: a change of the
 * management interface itself, an address whose subnet overlaps the management subnet or holds the SSH client
 * or its gateway, and a route that would win over the route reaching the client or the gateway today (more
 * specific, or as specific with a metric at least as good). Empty when none: such changes need
 * `safety.allowManagementInterface`.
 */
export function managementRisks(
  desired: DesiredUnderlay,
  obs: ObservedState,
  mgmt: string | undefined,
  plan: Pick<UnderlayPlan, "resolved" | "touchesManagement">,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const session = obs.sshClientAddress !== undefined ? ` (SSH client ${obs.sshClientAddress})` : "";
  if (mgmt !== undefined && plan.touchesManagement.includes(mgmt)) {
    const i = plan.resolved.findIndex((r) => r.name === mgmt || r.vlans.includes(mgmt));
    const j = desired.routes.findIndex((r) => r.dev === mgmt);
    problems.push({
      property: i >= 0 ? `interfaces[${i}]` : j >= 0 ? `routes[${j}].dev` : "interfaces",
      reason: `the change touches ${mgmt}, which carries the SSH session${session}; ${OPT_IN}`,
    });
  }
  const path = pathAddresses(obs, mgmt);
  const mgmtLink = mgmt !== undefined ? obs.links.find((l) => l.name === mgmt) : undefined;
  const mgmtSubnets = (mgmtLink?.addresses ?? []).flatMap((a) => {
    const c = parseCidr(a);
    return c ? [{ text: a, c }] : [];
  });

  // Addresses: a subnet overlapping the management subnet, or holding the client or the gateway, adds a
  // connected route that competes with (or wins over) the one the session uses.
  const checkAddress = (linkName: string | undefined, text: string, property: string) => {
    if (linkName === undefined || linkName === mgmt) return;
    const c = parseCidr(text);
    if (!c) return;
    const link = obs.links.find((l) => l.name === linkName);
    if (link?.addresses.includes(canonicalCidr(text))) return; // already there: not a change
    const overlap = mgmtSubnets.find((m) => cidrsOverlap(m.c, c));
    const holds = path.find((p) => cidrsOverlap(c, p.cidr));
    if (overlap) {
      problems.push({
        property,
        reason: `${text} on ${linkName} overlaps ${overlap.text} of ${mgmt}, the management interface carrying the SSH session${session}; ${OPT_IN}`,
      });
    } else if (holds) {
      problems.push({
        property,
        reason: `${text} on ${linkName} holds ${holds.ip}, ${holds.what}, so traffic to it would leave through ${linkName}; ${OPT_IN}`,
      });
    }
  };
  desired.interfaces.forEach((itf, i) => {
    const r = plan.resolved[i];
    itf.addresses.forEach((a, k) => {
      checkAddress(r?.name, a, `interfaces[${i}].addresses[${k}]`);
    });
    itf.vlans.forEach((v, j) => {
      v.addresses.forEach((a, k) => {
        checkAddress(r?.vlans[j], a, `interfaces[${i}].vlans[${j}].addresses[${k}]`);
      });
    });
  });

  // Routes: one that the kernel would prefer for the client or the gateway over the route used today.
  desired.routes.forEach((r, j) => {
    if (!inMainTable(r)) return;
    const dst = destinationCidr(r.destination);
    if (!dst) return;
    for (const p of path) {
      if (!cidrsOverlap(dst, p.cidr)) continue;
      const cur = p.via;
      const same =
        cur !== undefined &&
        cur.dst.prefix === dst.prefix &&
        (r.via === undefined || cur.route.via === canonicalIp(r.via)) &&
        (r.dev === undefined || cur.route.dev === r.dev) &&
        metricOf(cur.route, cur.dst) === metricOf(r, dst);
      if (same) continue; // the route the session already uses
      const wins =
        cur === undefined ||
        dst.prefix > cur.dst.prefix ||
        (dst.prefix === cur.dst.prefix && metricOf(r, dst) <= metricOf(cur.route, cur.dst));
      if (!wins) continue;
      const today = cur ? `, reached today by ${describeRoute(cur.route)}` : "";
      problems.push({
        property: `routes[${j}].destination`,
        reason: `${r.destination} covers ${p.ip}, ${p.what}${today}; this route would take that traffic away from the management path; ${OPT_IN}`,
      });
      break;
    }
  });
  return problems;
}
