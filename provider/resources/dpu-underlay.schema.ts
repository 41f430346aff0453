import { z } from "zod";
import type { FieldRules } from "../lifecycle";
import { fieldRules, secretPaths } from "../lifecycle/field-meta";
import { SshConnectionSchema } from "../ssh/connection-schema";
import { cidrsOverlap, isIp, parseCidr } from "../underlay/cidr";

/** Linux interface names: 1–15 characters, letters, digits, `_`, `.`, `-`; never `.`/`..`; no shell syntax. */
export const IFNAME = /^(?!\.{1,2}$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DNS_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const ifName = z
  .string()
  .regex(
    IFNAME,
    "must be a Linux interface name: 1-15 characters of letters, digits, _ . - (no spaces or shell syntax)",
  );
const cidr = z.string().refine((c) => parseCidr(c) !== undefined, {
  message: "must be an address in CIDR form, e.g. 198.19.0.1/24 or 2001:db8::1/64",
});
const mtu = z.number().int().min(68, "MTU must be at least 68").max(9216, "MTU must be at most 9216");
const ip = z.string().refine(isIp, { message: "must be an IPv4 or IPv6 address" });

/** A VLAN sub-interface on a declared interface. */
export const VlanSchema = z.strictObject({
  id: z
    .number()
    .int()
    .min(1, "VLAN id must be 1-4094")
    .max(4094, "VLAN id must be 1-4094")
    .describe("802.1Q VLAN id (1-4094)."),
  name: ifName.optional().describe("Name of the VLAN link (default `<parent>.<id>`)."),
  mtu: mtu.optional().describe("MTU of the VLAN link (68-9216); at most the parent's MTU."),
  addresses: z.array(cidr).default([]).describe("Addresses in CIDR form (IPv4 and IPv6) on the VLAN link."),
});

/** One interface of the DPU this resource configures. */
export const UnderlayInterfaceSchema = z
  .strictObject({
    name: ifName.optional().describe("Interface name on the DPU, e.g. `p0`. Set `name` or `mac`."),
    mac: z
      .string()
      .regex(MAC, "must be a MAC address like 02:00:00:00:00:01")
      .optional()
      .describe("Match the interface by MAC address instead of name."),
    mtu: mtu.optional().describe("MTU (68-9216). Unset: left as it is."),
    addresses: z
      .array(cidr)
      .default([])
      .describe("Addresses in CIDR form (IPv4 and IPv6) to add to the interface."),
    state: z.enum(["up", "down"]).default("up").describe("Administrative state (default `up`)."),
    vlans: z.array(VlanSchema).default([]).describe("VLAN sub-interfaces to create on this interface."),
  })
  .refine((i) => i.name !== undefined || i.mac !== undefined, { message: "set name or mac", path: ["name"] });

/** A static route. */
export const UnderlayRouteSchema = z
  .strictObject({
    destination: z
      .string()
      .refine((d) => d === "default" || d === "default6" || parseCidr(d) !== undefined, {
        message: "must be a CIDR, `default` (IPv4) or `default6` (IPv6)",
      })
      .describe(
        "Destination in CIDR form, `default` (IPv4 default route) or `default6` (IPv6 default route).",
      ),
    via: ip.optional().describe("Gateway address. Unset: an on-link route (then `dev` is required)."),
    dev: ifName.optional().describe("Outgoing interface (a declared interface or VLAN name)."),
    metric: z.number().int().min(0).max(4294967295).optional().describe("Route metric (priority)."),
    table: z.number().int().min(1).max(4294967295).optional().describe("Routing table id (default: main)."),
  })
  .refine((r) => r.via !== undefined || r.dev !== undefined, { message: "set via or dev", path: ["via"] });

/** A check that must pass after a change, or the change is rolled back. */
export const ProbeSchema = z.union([
  z.strictObject({ ping: ip.describe("Address that must answer ICMP echo from the DPU.") }).strict(),
  z
    .strictObject({
      tcp: z
        .string()
        .refine(
          (t) => {
            const m = /^(.+):(\d{1,5})$/.exec(t);
            const host = m?.[1]?.replace(/^\[(.*)\]$/, "$1");
            return (
              !!m && !!host && (isIp(host) || DNS_NAME.test(host)) && Number(m[2]) > 0 && Number(m[2]) < 65536
            );
          },
          { message: "must be host:port (IPv6 in brackets)" },
        )
        .describe("`host:port` the DPU must reach over TCP."),
    })
    .strict(),
]);

/** Safety net of a change. */
export const UnderlaySafetySchema = z.strictObject({
  rollbackAfterSeconds: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(60)
    .describe(
      "The DPU restores its previous configuration after this many seconds unless the provider confirms the change (default 60).",
    ),
  probes: z
    .array(ProbeSchema)
    .default([])
    .describe("Checks run on the DPU after the change; any failure rolls it back."),
  allowManagementInterface: z
    .boolean()
    .default(false)
    .describe(
      "Allow changes that can take the SSH session's path away: the interface carrying it, a route that would win over the route to the SSH client or its gateway, an address overlapping the management subnet (refused by default, before anything is applied; the rollback is always armed).",
    ),
});

/** The inputs of DpuUnderlay: basic networking of a DPU that is not the only NIC of its host. */
export const DpuUnderlayInputsSchema = z
  .strictObject({
    connection: SshConnectionSchema,
    hostname: z
      .string()
      .regex(DNS_NAME, "must be a host name (letters, digits, - and dots)")
      .optional()
      .describe("Host name of the DPU. Unset: left as it is."),
    dns: z
      .strictObject({
        servers: z
          .array(ip)
          .max(3, "at most 3 name servers (resolv.conf limit)")
          .default([])
          .describe("Name server addresses."),
        search: z
          .array(z.string().regex(DNS_NAME, "must be a domain name"))
          .max(6)
          .default([])
          .describe("Search domains."),
      })
      .optional()
      .describe("Resolver configuration (/etc/resolv.conf). Unset: left as it is."),
    interfaces: z
      .array(UnderlayInterfaceSchema)
      .default([])
      .describe("Interfaces to configure; every other interface is left alone."),
    routes: z.array(UnderlayRouteSchema).default([]).describe("Static routes to add."),
    persist: z
      .enum(["auto", "netplan", "networkmanager", "networkd", "none"])
      .default("auto")
      .describe(
        "How the configuration survives a reboot: `auto` detects netplan, NetworkManager or systemd-networkd on the DPU (none found: runtime only); `none` is runtime only.",
      ),
    safety: UnderlaySafetySchema.prefault({})
      .describe("Rollback window, probes and management-interface protection.")
      .meta({ noHardwareAction: true }),
    owner: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe(
        "Identity of the writer that owns this object on the DPU; the SDK sets it to `<project>/<stack>/<resource name>`. Recorded on the DPU: a create whose underlay (or one of whose interfaces) is recorded there by another owner is refused, and delete never removes what another owner's record holds.",
      )
      .meta({ noHardwareAction: true }),
  })
  .superRefine((v, ctx) => {
    const seen = new Map<string, number>();
    v.interfaces.forEach((itf, i) => {
      for (const key of [itf.name && `name ${itf.name}`, itf.mac && `mac ${itf.mac.toLowerCase()}`]) {
        if (!key) continue;
        const prev = seen.get(key);
        if (prev !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["interfaces", i, key.startsWith("name") ? "name" : "mac"],
            message: `duplicate interface (${key} is also interfaces[${prev}])`,
          });
        } else seen.set(key, i);
      }
      const ids = new Set<number>();
      itf.vlans.forEach((vl, j) => {
        if (ids.has(vl.id))
          ctx.addIssue({
            code: "custom",
            path: ["interfaces", i, "vlans", j, "id"],
            message: `duplicate VLAN id ${vl.id}`,
          });
        ids.add(vl.id);
        const name = vl.name ?? (itf.name ? `${itf.name}.${vl.id}` : undefined);
        if (name !== undefined && !IFNAME.test(name)) {
          ctx.addIssue({
            code: "custom",
            path: ["interfaces", i, "vlans", j, "name"],
            message: `VLAN link name ${name} is not a valid interface name (at most 15 characters); set name`,
          });
        }
        if (vl.mtu !== undefined && itf.mtu !== undefined && vl.mtu > itf.mtu) {
          ctx.addIssue({
            code: "custom",
            path: ["interfaces", i, "vlans", j, "mtu"],
            message: `VLAN MTU ${vl.mtu} exceeds the parent's MTU ${itf.mtu}`,
          });
        }
        if (name !== undefined) {
          const prev = seen.get(`name ${name}`);
          if (prev !== undefined)
            ctx.addIssue({
              code: "custom",
              path: ["interfaces", i, "vlans", j, "name"],
              message: `duplicate interface name ${name}`,
            });
          seen.set(`name ${name}`, i);
        }
      });
    });
    // Overlapping subnets across all declared addresses (the same subnet on two links breaks routing).
    const all: { path: (string | number)[]; text: string }[] = [];
    v.interfaces.forEach((itf, i) => {
      itf.addresses.forEach((a, k) => {
        all.push({ path: ["interfaces", i, "addresses", k], text: a });
      });
      itf.vlans.forEach((vl, j) => {
        vl.addresses.forEach((a, k) => {
          all.push({ path: ["interfaces", i, "vlans", j, "addresses", k], text: a });
        });
      });
    });
    for (let a = 0; a < all.length; a++) {
      for (let b = 0; b < a; b++) {
        const x = parseCidr(all[a]!.text);
        const y = parseCidr(all[b]!.text);
        if (x && y && cidrsOverlap(x, y)) {
          ctx.addIssue({
            code: "custom",
            path: all[a]!.path,
            message: `${all[a]!.text} overlaps ${all[b]!.text}`,
          });
        }
      }
    }
    v.routes.forEach((r, i) => {
      // `default` is 0.0.0.0/0 and `default6` is ::/0: the gateway must be of the same family (ip would fail
      // at apply time, after the rollback was armed).
      if (r.via !== undefined && (r.destination === "default" || r.destination === "default6")) {
        const v6 = r.via.includes(":");
        if (r.destination === "default" && v6) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "destination"],
            message: `\`default\` is the IPv4 default route but the gateway ${r.via} is IPv6; use \`default6\` for an IPv6 default route`,
          });
        } else if (r.destination === "default6" && !v6) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "destination"],
            message: `\`default6\` is the IPv6 default route but the gateway ${r.via} is IPv4; use \`default\` for an IPv4 default route`,
          });
        }
      }
      if (r.via !== undefined && r.destination !== "default" && r.destination !== "default6") {
        const d = parseCidr(r.destination);
        if (d && (d.family === 4) !== !r.via.includes(":")) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "via"],
            message: "gateway and destination must be the same IP family",
          });
        }
      }
    });
  });

/** Checked DpuUnderlay inputs. */
export type DpuUnderlayInputs = z.output<typeof DpuUnderlayInputsSchema>;
/** One declared interface. */
export type UnderlayInterface = z.output<typeof UnderlayInterfaceSchema>;
/** One declared route. */
export type UnderlayRoute = z.output<typeof UnderlayRouteSchema>;

/** Input keys compared by diff() (every top-level input). */
export const DPU_UNDERLAY_INPUT_KEYS = Object.keys(DpuUnderlayInputsSchema.shape) as readonly string[];

/**
 * Change rules, derived from the fields' metadata: another DPU (`connection.host`/`port`) means another
 * resource; credentials and safety settings touch nothing on the DPU.
 */
export const dpuUnderlayFieldRules: FieldRules = fieldRules(DpuUnderlayInputsSchema, {
  deleteBeforeReplace: false,
});

/** Secret inputs (dotted paths), derived from the fields' `secret` metadata. */
export const DPU_UNDERLAY_SECRET_INPUTS: readonly string[] = secretPaths(DpuUnderlayInputsSchema);
