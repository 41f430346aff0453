import type { DpuPort } from "../contracts";

/** Number of labs that can run side by side on one host. */
export const MAX_SLOTS = 64;
/** Most DPUs one lab can hold (the management /22 has room for 1012 after the reserved low addresses). */
export const MAX_DPUS = 1000;
/** Prefix of every kernel object (namespace, link) a lab creates. */
export const OBJECT_PREFIX = "pds";

/** Names and addresses of one DPU of a lab slot. */
export interface DpuPlan {
  readonly index: number;
  readonly name: string;
  readonly netns: string;
  readonly mgmtIp: string;
  /** Host side of the management veth (a port of the management bridge). */
  readonly hostLink: string;
  readonly hostLinkMac: string;
  /** Switch-side peers of p0 and p1 (ports of the ToR bridge, in the ToR namespace). */
  readonly torLinks: readonly [string, string];
  readonly torLinkMacs: readonly [string, string];
  /** oob_net0, p0, p1 as the DPU sees them. */
  readonly ports: readonly DpuPort[];
}

/** Names and addresses of a lab slot. */
export interface SlotPlan {
  readonly slot: number;
  readonly bridge: string;
  readonly bridgeMac: string;
  readonly bridgeIp: string;
  readonly prefixLength: 22;
  readonly torNetns: string;
  readonly torBridge: "tor";
  readonly torBridgeMac: string;
  dpu(index: number): DpuPlan;
}

/** Locally administered unicast MAC `02:d5:<slot>:<a>:<b>:<c>`. */
function mac(slot: number, a: number, b: number, c: number): string {
  return [0x02, 0xd5, slot, a, b, c].map((n) => n.toString(16).padStart(2, "0")).join(":");
}

/**
 * The address and name plan of lab slot `slot` (0..63): management bridge `pds<slot>br` with
 * 198.18.(4·slot).1/22, DPU i at 198.18.(4·slot + ⌊(10+i)/256⌋).((10+i) mod 256), namespaces `pds<slot>-dpu<i>`
 * and `pds<slot>-tor`. MACs derive from slot, index and port, so labs never clash.
 */
export function slotPlan(slot: number): SlotPlan {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`slot out of range: ${slot}`);
  const base = 4 * slot;
  return {
    slot,
    bridge: `${OBJECT_PREFIX}${slot}br`,
    bridgeMac: mac(slot, 0xff, 0xff, 0x01),
    bridgeIp: `198.18.${base}.1`,
    prefixLength: 22,
    torNetns: `${OBJECT_PREFIX}${slot}-tor`,
    torBridge: "tor",
    torBridgeMac: mac(slot, 0xff, 0xff, 0x02),
    dpu(index: number): DpuPlan {
      if (!Number.isInteger(index) || index < 0 || index >= MAX_DPUS)
        throw new Error(`DPU index out of range: ${index}`);
      const host = 10 + index;
      const hi = index >> 8;
      const lo = index & 0xff;
      return {
        index,
        name: `dpu-${index}`,
        netns: `${OBJECT_PREFIX}${slot}-dpu${index}`,
        mgmtIp: `198.18.${base + (host >> 8)}.${host & 0xff}`,
        hostLink: `${OBJECT_PREFIX}${slot}m${index}`,
        hostLinkMac: mac(slot, hi, lo, 0x10),
        torLinks: [`d${index}p0`, `d${index}p1`],
        torLinkMacs: [mac(slot, hi, lo, 0x11), mac(slot, hi, lo, 0x12)],
        ports: [
          { name: "oob_net0", mac: mac(slot, hi, lo, 0x00) },
          { name: "p0", mac: mac(slot, hi, lo, 0x01) },
          { name: "p1", mac: mac(slot, hi, lo, 0x02) },
        ],
      };
    },
  };
}
