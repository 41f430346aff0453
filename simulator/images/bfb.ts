import { createHash } from "node:crypto";

/**
 * BFB-like bundle format of the lab (all integers big-endian):
 *
 * | offset | size | field                                                    |
 * |--------|------|----------------------------------------------------------|
 * | 0      | 4    | magic `42 66 02 13` ("Bf\x02\x13", as real BFB files)    |
 * | 4      | 2    | format version, 1                                        |
 * | 6      | 2    | header length H                                          |
 * | 8      | 4    | payload length P                                         |
 * | 12     | H    | UTF-8 JSON `{"name","version","payloadSha256"}`          |
 * | 12+H   | P    | payload bytes                                            |
 * | 12+H+P | rest | optional appendix: a `bf.cfg` appended with `cat <BFB> <bf.cfg> > <new BFB>` |
 *
 * NVIDIA documents appending `bf.cfg` to a BFB (BlueField BSP 4.9/4.10 "Customizing BlueField Software
 * Deployment": `cat <BFB> <path to bf.cfg> > <new BFB>`); the installer inside the BFB sources it. The lab's
 * bundles accept the same appendix: whatever follows the payload is the bf.cfg text.
 */
export const BFB_MAGIC = Buffer.from([0x42, 0x66, 0x02, 0x13]);
const FIXED = 12;

/** Header of a lab BFB bundle. */
export interface BfbHeader {
  readonly name: string;
  readonly version: string;
  readonly payloadSha256: string;
}

/** Options of {@link makeBfb}. */
export interface MakeBfbOptions {
  /** Bundle name; it is the label the BMC reports (`bf-bundle-4.9`). */
  readonly name: string;
  readonly version: string;
  /** Payload size in bytes (default 64 KiB); the bytes are derived from name and version. */
  readonly payloadBytes?: number;
}

function payloadFor(name: string, version: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(`${name}\0${version}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/** Builds a BFB-like bundle (see the format table above). */
export function makeBfb(opts: MakeBfbOptions): Buffer {
  const payload = payloadFor(opts.name, opts.version, opts.payloadBytes ?? 64 * 1024);
  const header: BfbHeader = {
    name: opts.name,
    version: opts.version,
    payloadSha256: createHash("sha256").update(payload).digest("hex"),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const fixed = Buffer.alloc(FIXED);
  BFB_MAGIC.copy(fixed, 0);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt16BE(json.length, 6);
  fixed.writeUInt32BE(payload.length, 8);
  return Buffer.concat([fixed, json, payload]);
}

/** Parses and verifies a lab BFB bundle; throws on any inconsistency. */
export function parseBfb(bytes: Buffer): BfbHeader {
  if (bytes.length < FIXED || !bytes.subarray(0, 4).equals(BFB_MAGIC))
    throw new Error("not a BFB bundle (bad magic)");
  const version = bytes.readUInt16BE(4);
  if (version !== 1) throw new Error(`unsupported BFB format version ${version}`);
  const hlen = bytes.readUInt16BE(6);
  const plen = bytes.readUInt32BE(8);
  if (bytes.length < FIXED + hlen + plen) {
    throw new Error(`corrupt BFB bundle: size ${bytes.length}, header says ${FIXED + hlen + plen}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(FIXED, FIXED + hlen).toString("utf8"));
  } catch {
    throw new Error("corrupt BFB bundle: header is not JSON");
  }
  const h = header as Partial<BfbHeader> | null;
  if (
    !h ||
    typeof h.name !== "string" ||
    typeof h.version !== "string" ||
    typeof h.payloadSha256 !== "string"
  ) {
    throw new Error("corrupt BFB bundle: header lacks name/version/payloadSha256");
  }
  const digest = createHash("sha256")
    .update(bytes.subarray(FIXED + hlen, FIXED + hlen + plen))
    .digest("hex");
  if (digest !== h.payloadSha256) throw new Error("corrupt BFB bundle: payload checksum mismatch");
  return { name: h.name, version: h.version, payloadSha256: h.payloadSha256 };
}

/**
 * The `bf.cfg` appended after a lab BFB's payload (`cat <BFB> <bf.cfg> > <new BFB>`), or `undefined` when the
 * bundle ends with its payload. Throws like {@link parseBfb} on a corrupt bundle.
 */
export function bfbAppendedConfig(bytes: Buffer): string | undefined {
  parseBfb(bytes);
  const end = FIXED + bytes.readUInt16BE(6) + bytes.readUInt32BE(8);
  return bytes.length > end ? bytes.subarray(end).toString("utf8") : undefined;
}
