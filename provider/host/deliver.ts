import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpuError } from "../errors";
import { type Logger, publicUrl } from "../log";
import { checkImage } from "../redfish/image-check";
import { type ImageStage, openStage } from "../stage";
import type { ImageStageSpec } from "../stage/stage.schema";
import type { GeneratedHostKey } from "./host-key";
import type { DpuIdentity } from "./identity.schema";
import { renderBfCfg } from "./seed/bf-cfg";
import { buildCidata } from "./seed/cidata";
import { renderNoCloud } from "./seed/nocloud";

/** Name of the NoCloud seed volume on the stage (served content addressed as `<sha256>-cidata.iso`). */
export const SEED_OBJECT_NAME = "cidata.iso";

/**
 * Why an identity cannot travel with UEFI HTTP boot, and what to use instead. Redfish gives the firmware one boot
 * URI per system (`Boot.HttpBootUri`); the firmware boots what it fetches there with the kernel command line of
 * that image's own boot loader. cloud-init takes a network seed only from that command line or from the SMBIOS
 * system serial number (read-only in Redfish): `ds=nocloud;s=<url>/` (NoCloud datasource). A per-DPU URL there
 * needs a per-DPU copy of the image with its boot configuration rewritten, which DpuHost does not build.
 */
export const UEFI_HTTP_IDENTITY_REFUSAL =
  "identity cannot be delivered with UEFI HTTP boot: Redfish gives the firmware one boot URI per system (Boot.HttpBootUri), and the firmware boots that image with the kernel command line of the image's own boot loader, so a per-DPU NoCloud seed URL (cloud-init `ds=nocloud;s=<url>/`) could reach the DPU only through a per-DPU copy of the image with its boot configuration rewritten, which DpuHost does not build. " +
  "Use image.method virtualMedia (the seed as a `cidata` volume in a second virtual-media slot) or simpleUpdate (a bf.cfg appended to a BlueField BFB); or leave `identity` out, bake one seed URL for the whole fleet into the image's kernel command line, `ds=nocloud;s=http://<seed server>/__dmi.system-uuid__/` (cloud-init 24.1 and later; `ds=nocloud-net;…` from 23.1; quoted in grub.cfg, where `;` separates commands), and serve each DPU's seed under its SMBIOS UUID yourself";

/** What an identity delivery put on the stage, and what may be recorded in state about it. */
export interface StagedIdentity {
  /** `cidata`: a NoCloud volume for a second virtual-media slot; `bf.cfg`: appended to the BFB. */
  readonly kind: "cidata" | "bf.cfg";
  /** URL the BMC fetches: the seed volume (cidata) or the BFB with its bf.cfg (bf.cfg). */
  readonly url: string;
  /** sha256 of the seed itself (the ISO, or the bf.cfg): recorded in state, the seed never is when it holds secrets. */
  readonly seedSha256: string;
  /** sha256 of the staged object (equal to `seedSha256` for cidata). */
  readonly objectSha256: string;
  /** The pinned host key fingerprint when the seed carries a generated host key. */
  readonly hostKeyFingerprint?: string;
  readonly holdsSecrets: boolean;
  /** Removes what was staged and releases the stage (end of the install, success or not). */
  close(): Promise<void>;
}

/** Where the BFB to extend comes from (the checked `image` inputs). */
export interface BfbSource {
  readonly url: string;
  readonly sha256?: string;
  readonly username?: string;
  readonly password?: string;
  readonly caCert?: string;
  readonly timeoutMs: number;
}

function withCredentials(src: BfbSource): string {
  if (src.username === undefined) return src.url;
  const u = new URL(src.url);
  u.username = encodeURIComponent(src.username);
  u.password = encodeURIComponent(src.password ?? "");
  return u.href;
}

/**
 * Builds the per-DPU seed for `method` and stages it, before anything is sent to the BMC: the NoCloud `cidata`
 * volume for virtual media, or the BFB with a bf.cfg appended for SimpleUpdate (the BFB is downloaded once, and
 * checked against `image.sha256` when given). UEFI HTTP boot is refused ({@link UEFI_HTTP_IDENTITY_REFUSAL}), before
 * the stage is opened. `where` starts its messages (the step; the provider's error prefix names the resource and BMC).
 */
export async function stageIdentity(opts: {
  readonly identity: DpuIdentity;
  readonly hostKey?: GeneratedHostKey;
  readonly method: "virtualMedia" | "uefiHttp" | "simpleUpdate";
  readonly stage: ImageStageSpec;
  readonly bfb?: BfbSource;
  readonly log: Logger;
  readonly where: string;
}): Promise<StagedIdentity> {
  const { identity, method, where } = opts;
  if (method === "uefiHttp") {
    throw new DpuError("DPU_IDENTITY_UNSUPPORTED", `${where}: ${UEFI_HTTP_IDENTITY_REFUSAL}`);
  }
  if (method === "simpleUpdate" && opts.bfb === undefined)
    throw new TypeError("stageIdentity(simpleUpdate) needs the BFB source");
  if (method === "simpleUpdate" && opts.bfb && !/^https?:$/.test(new URL(opts.bfb.url).protocol)) {
    throw new DpuError(
      "DPU_IDENTITY_UNSUPPORTED",
      `${where}: identity by bf.cfg needs the BFB over http(s) (the provider downloads it once to append the bf.cfg), not ${new URL(opts.bfb.url).protocol}//; the stage then serves the result`,
    );
  }
  const seed = renderNoCloud(identity, opts.hostKey);
  const fingerprint = identity.hostKey === "generate" ? opts.hostKey?.fingerprint : undefined;
  let stage: ImageStage | undefined;
  let scratch: string | undefined;
  const release = async () => {
    await stage?.close();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  };
  try {
    stage = await openStage(opts.stage, opts.log);
    if (method === "virtualMedia") {
      const iso = await buildCidata(seed);
      const obj = await stage.publish(SEED_OBJECT_NAME, [{ bytes: iso.bytes }]);
      opts.log.info(`identity: NoCloud seed ${iso.sha256.slice(0, 12)}… staged for ${identity.hostname}`);
      return {
        kind: "cidata",
        url: obj.url,
        seedSha256: iso.sha256,
        objectSha256: obj.sha256,
        ...(fingerprint ? { hostKeyFingerprint: fingerprint } : {}),
        holdsSecrets: seed.holdsSecrets,
        close: release,
      };
    }
    if (opts.bfb === undefined) throw new TypeError("stageIdentity(simpleUpdate) needs the BFB source");
    scratch = await mkdtemp(join(tmpdir(), "pulumi-dpu-bfb-"));
    const local = join(scratch, "image.bfb");
    await checkImage(withCredentials(opts.bfb), {
      measure: true,
      ...(opts.bfb.sha256 ? { sha256: opts.bfb.sha256 } : {}),
      ...(opts.bfb.caCert ? { caCert: opts.bfb.caCert } : {}),
      timeoutMs: opts.bfb.timeoutMs,
      saveTo: local,
    });
    const cfg = Buffer.from(renderBfCfg(identity, seed), "utf8");
    const cfgSha = createHash("sha256").update(cfg).digest("hex");
    const name = (new URL(opts.bfb.url).pathname.split("/").pop() ?? "image.bfb").replace(
      /[^A-Za-z0-9._-]/g,
      "_",
    );
    const obj = await stage.publish(name || "image.bfb", [{ file: local }, { bytes: cfg }]);
    opts.log.info(
      `identity: ${publicUrl(opts.bfb.url)} + bf.cfg ${cfgSha.slice(0, 12)}… staged for ${identity.hostname}`,
    );
    return {
      kind: "bf.cfg",
      url: obj.url,
      seedSha256: cfgSha,
      objectSha256: obj.sha256,
      ...(fingerprint ? { hostKeyFingerprint: fingerprint } : {}),
      holdsSecrets: seed.holdsSecrets,
      close: release,
    };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}
