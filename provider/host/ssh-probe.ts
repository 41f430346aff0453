import { redact } from "../log";
import type { SshConnector, SshTarget } from "../ssh";
import { hostTransports } from "./transports";

/** What the DPU OS says about itself over SSH. */
export interface DpuOsFacts {
  /** `SHA256:…` of the host key the DPU presented. */
  readonly hostKeyFingerprint: string;
  /** /etc/os-release fields. */
  readonly osRelease: Record<string, string>;
  /** MAC address per network interface (loopback excluded). */
  readonly macs: Record<string, string>;
}

/** Line separating os-release from the MAC list in the probe's output. */
const MACS_MARKER = "@@pulumi-dpu-macs";

/**
 * Static probe script (no input is interpolated): /etc/os-release, then one `<name> <mac>` line per interface.
 * Shell builtins only for the interface loop, so a DPU with hundreds of interfaces (VF representors) costs one
 * process, not two per interface.
 */
const PROBE_SCRIPT = `cat /etc/os-release
echo ${MACS_MARKER}
for i in /sys/class/net/*; do
  n=\${i##*/}; [ "$n" = lo ] && continue
  a=; read -r a 2>/dev/null < "$i/address"
  printf '%s %s\\n' "$n" "$a"
done`;

/** Parses os-release text (`KEY=value`, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    let v = m[2] ?? "";
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v.replace(/\\(["\\$`])/g, "$1");
  }
  return out;
}

/** sha256 of the running image as os-release states it (`DPU_IMAGE_SHA256`, or `IMAGE_SHA256`). */
export function imageShaOf(osRelease: Record<string, string>): string | undefined {
  return osRelease.DPU_IMAGE_SHA256 ?? osRelease.IMAGE_SHA256;
}

/**
 * Reads os-release, MACs and the host key fingerprint of the DPU OS through `connector` (default: the SSH
 * connector the provider instance was created with, see provider/host/transports.ts). `fresh` drops pooled
 * connections first (after a reset the old connection is dead and the host key changed).
 */
export async function probeDpuOs(
  target: SshTarget,
  fresh: boolean,
  connector: SshConnector = hostTransports().ssh,
): Promise<DpuOsFacts> {
  if (fresh) connector.invalidate(target);
  const session = await connector.session(target);
  // One round trip: os-release and the interface MACs.
  const out = await session.run(["sh", "-c", PROBE_SCRIPT], {
    timeoutMs: 15_000,
    describe: "read /etc/os-release and interface MACs",
  });
  const at = out.stdout.indexOf(`${MACS_MARKER}\n`);
  const osText = at < 0 ? out.stdout : out.stdout.slice(0, at);
  const ifText = at < 0 ? "" : out.stdout.slice(at + MACS_MARKER.length + 1);
  const macs: Record<string, string> = {};
  for (const line of ifText.split("\n")) {
    const [name, mac] = line.trim().split(/\s+/);
    if (name && mac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) macs[name] = mac.toLowerCase();
  }
  // os-release lands in plain state: an OS may record where it was installed from (credentials in the URL).
  const osRelease = Object.fromEntries(
    Object.entries(parseOsRelease(osText)).map(([k, v]) => [k, redact(v)] as const),
  );
  return { hostKeyFingerprint: session.hostKeyFingerprint, osRelease, macs };
}
