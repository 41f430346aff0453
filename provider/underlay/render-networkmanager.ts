import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import { type RenderedFile, type RenderInput, routeTo } from "./render-model";

const DIR = "/etc/NetworkManager/system-connections";

/** Deterministic UUID (v5-like layout) from a name, so re-rendering yields identical keyfiles. */
function uuidFor(name: string): string {
  const h = createHash("sha1").update(`pulumi-dpu:${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Renders NetworkManager keyfiles (mode 0600, as NM requires) for exactly the declared links. */
export function renderNetworkManager(input: RenderInput): RenderedFile[] {
  const files: RenderedFile[] = [];
  const ipSections = (dev: string, addresses: readonly string[], withDns: boolean) => {
    const out: string[] = [];
    for (const fam of [4, 6] as const) {
      const addrs = addresses.filter((a) => isIPv6(a.split("/")[0] ?? "") === (fam === 6));
      const routes = input.routes.filter(
        (r) => r.dev === dev && routeTo(r.destination).includes(":") === (fam === 6),
      );
      const dns = withDns ? (input.dns?.servers ?? []).filter((s) => isIPv6(s) === (fam === 6)) : [];
      out.push(`[ipv${fam}]`);
      out.push(`method=${addrs.length > 0 ? "manual" : fam === 4 ? "disabled" : "ignore"}`);
      addrs.forEach((a, i) => {
        out.push(`address${i + 1}=${a}`);
      });
      routes.forEach((r, i) => {
        out.push(
          `route${i + 1}=${routeTo(r.destination)}${r.via !== undefined ? `,${r.via}` : ""}${r.metric !== undefined ? `${r.via === undefined ? "," : ""},${r.metric}` : ""}`,
        );
        if (r.table !== undefined) out.push(`route${i + 1}_options=table=${r.table}`);
      });
      if (dns.length > 0) out.push(`dns=${dns.join(";")};`);
      if (withDns && fam === 4 && input.dns && input.dns.search.length > 0)
        out.push(`dns-search=${input.dns.search.join(";")};`);
      out.push("");
    }
    return out;
  };
  for (const l of input.links) {
    const id = `pulumi-dpu-${input.id}-${l.name}`;
    const lines = [
      "# Managed by pulumi-dpu (DpuUnderlay). Changes are overwritten.",
      "[connection]",
      `id=${id}`,
      `uuid=${uuidFor(id)}`,
      "type=ethernet",
      `interface-name=${l.name}`,
      `autoconnect=${l.state === "up" ? "true" : "false"}`,
      "",
      "[ethernet]",
      ...(l.mac !== undefined ? [`mac-address=${l.mac.toUpperCase()}`] : []),
      ...(l.mtu !== undefined ? [`mtu=${l.mtu}`] : []),
      "",
      ...ipSections(l.name, l.addresses, l === input.links[0]),
    ];
    files.push({
      path: `${DIR}/${id}.nmconnection`,
      mode: 0o600,
      content: `${lines.join("\n").trimEnd()}\n`,
    });
    for (const v of l.vlans) {
      const vid = `pulumi-dpu-${input.id}-${v.name}`;
      const vl = [
        "# Managed by pulumi-dpu (DpuUnderlay). Changes are overwritten.",
        "[connection]",
        `id=${vid}`,
        `uuid=${uuidFor(vid)}`,
        "type=vlan",
        `interface-name=${v.name}`,
        "autoconnect=true",
        "",
        "[vlan]",
        `id=${v.id}`,
        `parent=${l.name}`,
        "",
        ...(v.mtu !== undefined ? ["[ethernet]", `mtu=${v.mtu}`, ""] : []),
        ...ipSections(v.name, v.addresses, false),
      ];
      files.push({
        path: `${DIR}/${vid}.nmconnection`,
        mode: 0o600,
        content: `${vl.join("\n").trimEnd()}\n`,
      });
    }
  }
  return files;
}
