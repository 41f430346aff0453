import { existsSync, lstatSync, realpathSync } from "node:fs";
import { aptInstallCommand } from "./host-tools";

/**
 * The `/bin/sh` of a namespace DPU's OS image:
 * - `dash`: the Debian/Ubuntu-like image. `/bin/sh` and `/usr/bin/sh` are dash; root's login shell is bash
 *   (as on Debian and Ubuntu, so sshd parses a command line with bash and `sh -c` inside it is dash).
 * - `busybox`: a minimal (Yocto/buildroot-like) image. `/bin/sh` and `/usr/bin/sh` are busybox ash, root's
 *   login shell is `/bin/sh`, and there is no bash (`/bin/bash` and `/usr/bin/bash` are hidden). The busybox
 *   applets such an image has and the lab machine usually lacks ({@link BUSYBOX_EXTRA_APPLETS}) are linked
 *   too; every other command stays the lab machine's.
 */
export type DpuShell = "dash" | "busybox";

/**
 * Busybox applets linked in the busybox image's `/usr/bin` when the lab machine has no command of that name
 * (a minimal image gets them from busybox; `nc` is what a TCP health probe without bash uses).
 */
export const BUSYBOX_EXTRA_APPLETS: readonly string[] = ["ash", "nc", "nslookup", "telnet", "usleep"];

/** Every {@link DpuShell}, in documentation order. */
export const DPU_SHELLS: readonly DpuShell[] = ["dash", "busybox"];

/** The shell of a DPU when neither an option nor {@link LAB_SHELL_ENV} says otherwise. */
export const DEFAULT_DPU_SHELL: DpuShell = "dash";

/**
 * Environment variable naming the default {@link DpuShell} of every namespace DPU a lab starts (`startLab`,
 * `startLightLab`, `pulumi-dpu sim`) when the caller passes no `shell` option: `dash` or `busybox`.
 *
 * It exists to run existing lab tests, unchanged, against the minimal busybox image
 * (`PULUMI_DPU_LAB_SHELL=busybox npx vitest run test/workload/…`). An explicit `shell` option wins over it;
 * VM DPUs ignore it (their image is a real Debian, whose `/bin/sh` is dash). Any other value is an error at
 * lab start.
 */
export const LAB_SHELL_ENV = "PULUMI_DPU_LAB_SHELL";

/** True when `v` names a {@link DpuShell}. */
export function isDpuShell(v: unknown): v is DpuShell {
  return typeof v === "string" && (DPU_SHELLS as readonly string[]).includes(v);
}

/** The shell named by {@link LAB_SHELL_ENV}, `undefined` when unset or empty; throws on an unknown name. */
export function labShellFromEnv(env: NodeJS.ProcessEnv = process.env): DpuShell | undefined {
  const v = env[LAB_SHELL_ENV];
  if (v === undefined || v === "") return undefined;
  if (!isDpuShell(v)) throw new Error(`${LAB_SHELL_ENV}=${v}: must be one of ${DPU_SHELLS.join(", ")}`);
  return v;
}

const BINARIES: Record<DpuShell, readonly string[]> = {
  dash: ["/usr/bin/dash", "/bin/dash"],
  busybox: ["/usr/bin/busybox", "/bin/busybox"],
};

/** Host path of the binary behind `shell`, resolved; throws naming the package to install when absent. */
export function shellBinary(shell: DpuShell): string {
  for (const p of BINARIES[shell]) if (existsSync(p)) return realpathSync(p);
  throw new Error(
    `the ${shell} DPU image needs ${BINARIES[shell][0]} on the lab machine; install it (Debian/Ubuntu, as root): ${aptInstallCommand([shell])}`,
  );
}

/** Root's login shell in the DPU's /etc/passwd: bash on the Debian-like image (sh without bash), sh on busybox. */
export function loginShell(shell: DpuShell): string {
  if (shell === "busybox") return "/bin/sh";
  return existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";
}

/**
 * Directories (relative to `/`) that hold `sh` and `bash` on this machine and that the DPU overlays with its
 * own: `usr/bin`, plus `bin` when `/bin` is a real directory (no merged /usr).
 */
export function shellDirs(): readonly string[] {
  let merged = true;
  try {
    merged = lstatSync("/bin").isSymbolicLink();
  } catch {
    merged = true;
  }
  return merged ? ["usr/bin"] : ["usr/bin", "bin"];
}

/** Host `/etc/passwd` text with root's login shell replaced by `login` (other entries unchanged). */
export function passwdWithRootShell(passwd: string, login: string): string {
  const lines = passwd.split("\n");
  let found = false;
  const out = lines.map((l) => {
    const f = l.split(":");
    if (f[0] !== "root" || f.length !== 7) return l;
    found = true;
    f[6] = login;
    return f.join(":");
  });
  if (!found) out.unshift(`root:x:0:0:root:/root:${login}`);
  const text = out.join("\n");
  return text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * Boot-script lines that make `/bin/sh` (and `/usr/bin/sh`) the image's shell in the DPU's overlays of `dirs`,
 * staged under `/tmp/upper` before the overlays are mounted: a symlink `sh -> <binary>`, and for busybox an
 * overlay whiteout (character device 0/0) hiding `bash`; for dash a previous whiteout is removed.
 */
export function shellSetupLines(shell: DpuShell, binary: string, dirs: readonly string[]): string[] {
  if (binary.includes("'")) throw new Error(`shell binary path must not contain a quote: ${binary}`);
  const lines: string[] = [];
  for (const d of dirs) {
    const up = `/tmp/upper/${d}`;
    lines.push(`ln -sfn '${binary}' ${up}/sh`);
    if (shell === "busybox") {
      lines.push(`rm -f ${up}/bash ${up}/rbash`, `mknod ${up}/bash c 0 0`, `mknod ${up}/rbash c 0 0`);
      for (const a of BUSYBOX_EXTRA_APPLETS) {
        lines.push(`if [ ! -e /${d}/${a} ] || [ -L ${up}/${a} ]; then ln -sfn '${binary}' ${up}/${a}; fi`);
      }
    } else {
      lines.push(`for f in ${up}/bash ${up}/rbash; do if [ -c "$f" ]; then rm -f "$f"; fi; done`);
    }
  }
  return lines;
}
