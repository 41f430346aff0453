import { isIPv4, isIPv6 } from "node:net";

/** A parsed CIDR (interface address form: host bits may be set, e.g. `198.19.0.1/24`). */
export interface Cidr {
  readonly family: 4 | 6;
  readonly address: bigint;
  readonly prefix: number;
  /** The text as written. */
  readonly text: string;
}

function v4ToBig(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBig(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = v4ToBig(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - h.length - t.length;
  const parts = tail === undefined ? h : [...h, ...Array<string>(missing).fill("0"), ...t];
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(Number.parseInt(p, 16)), 0n);
}

/** Parses `addr/prefix` (IPv4 or IPv6); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const prefix = Number(m[2]);
  if (isIPv4(m[1]) && prefix <= 32) return { family: 4, address: v4ToBig(m[1]), prefix, text };
  if (isIPv6(m[1]) && !m[1].includes("%") && prefix <= 128) {
    return { family: 6, address: v6ToBig(m[1]), prefix, text };
  }
  return undefined;
}

function network(c: Cidr, prefix: number): bigint {
  const bits = c.family === 4 ? 32 : 128;
  return c.address >> BigInt(bits - prefix);
}

/** True when the two subnets share addresses (same family and one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  return network(a, p) === network(b, p);
}

/** True for a plain IPv4 or IPv6 address. */
export function isIp(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

/** Canonical text of an address for comparisons (lower-case IPv6, compressed like `ip` prints it). */
export function canonicalIp(text: string): string {
  if (isIPv4(text)) return text;
  const n = v6ToBig(text);
  const hextets: string[] = [];
  for (let i = 7; i >= 0; i--) hextets.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Longest run of zeros (length ≥ 2) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return hextets.join(":");
  return `${hextets.slice(0, best).join(":")}::${hextets.slice(best + bestLen).join(":")}`;
}

/** Canonical `addr/prefix` text. */
export function canonicalCidr(text: string): string {
  const [addr = "", prefix = ""] = text.split("/");
  return `${canonicalIp(addr)}/${prefix}`;
}
