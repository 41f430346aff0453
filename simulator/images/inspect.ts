import { BFB_MAGIC, parseBfb } from "./bfb";

/** What {@link inspectImage} found. */
export interface ImageIdentity {
  readonly kind: "iso" | "bfb";
  /** ISO9660 volume identifier, or the BFB header name. */
  readonly label: string;
}

const SECTOR = 2048;
const PVD_OFFSET = 16 * SECTOR;

/**
 * Identifies an image: an ISO9660 image by the Primary Volume Descriptor at sector 16 (`CD001`, type 1),
 * whose volume identifier is the label; a lab BFB bundle by its magic and verified header.
 * Throws an Error naming the problem for anything else.
 */
export function inspectImage(bytes: Buffer): ImageIdentity {
  if (bytes.length >= 4 && bytes.subarray(0, 4).equals(BFB_MAGIC)) {
    return { kind: "bfb", label: parseBfb(bytes).name };
  }
  if (bytes.length < PVD_OFFSET + SECTOR) {
    throw new Error(`unknown image format: ${bytes.length} bytes, too small for ISO9660 and no BFB magic`);
  }
  const pvd = bytes.subarray(PVD_OFFSET, PVD_OFFSET + SECTOR);
  if (pvd.toString("latin1", 1, 6) !== "CD001") {
    throw new Error("unknown image format: no ISO9660 'CD001' signature at sector 16 and no BFB magic");
  }
  if (pvd[0] !== 1 || pvd[6] !== 1) {
    throw new Error(
      `corrupt ISO9660 image: sector 16 is descriptor type ${pvd[0]} version ${pvd[6]}, want PVD 1/1`,
    );
  }
  const label = pvd.toString("latin1", 40, 72).trimEnd();
  if (label === "") throw new Error("corrupt ISO9660 image: empty volume identifier");
  const blocks = pvd.readUInt32LE(80);
  if (blocks * SECTOR > bytes.length) {
    throw new Error(
      `corrupt ISO9660 image: volume space ${blocks * SECTOR} bytes exceeds image size ${bytes.length}`,
    );
  }
  return { kind: "iso", label };
}
