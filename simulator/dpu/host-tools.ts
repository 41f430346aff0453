/**
 * The system tools a lab runs, checked before anything starts, so that an installed package (which ships no
 * prerequisites script of the clone) says exactly what to install instead of failing half-way through a start.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A command the lab runs and the Debian/Ubuntu package that provides it. */
export interface LabTool {
  readonly cmd: string;
  readonly pkg: string;
}

/** What every lab runs (the DPU's shell is checked per image in os-shell.ts, with its own package). */
export const LAB_TOOLS: readonly LabTool[] = [
  { cmd: "ip", pkg: "iproute2" },
  { cmd: "sshd", pkg: "openssh-server" },
  { cmd: "ssh-keygen", pkg: "openssh-client" },
  { cmd: "tini", pkg: "tini" },
  { cmd: "xorriso", pkg: "xorriso" },
  { cmd: "openssl", pkg: "openssl" },
  { cmd: "unshare", pkg: "util-linux" },
  { cmd: "nsenter", pkg: "util-linux" },
];

/** Where to look: PATH, then the system directories (sshd lives in /usr/sbin, often not on a user's PATH). */
export function searchDirs(path: string = process.env.PATH ?? ""): string[] {
  return [...path.split(delimiter).filter(Boolean), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The tools of `tools` found in none of `dirs`. */
export function missingLabTools(dirs: readonly string[] = searchDirs(), tools = LAB_TOOLS): LabTool[] {
  return tools.filter((t) => !dirs.some((d) => executable(join(d, t.cmd))));
}

/** The exact command that installs `packages` on Debian/Ubuntu, as root. */
export function aptInstallCommand(packages: readonly string[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${[...new Set(packages)].join(" ")}`;
}

/** Why the lab cannot start here for lack of tools (naming them and the install command), or undefined. */
export function labToolsProblem(dirs: readonly string[] = searchDirs()): string | undefined {
  const missing = missingLabTools(dirs);
  if (missing.length === 0) return undefined;
  return (
    `the DPU lab needs ${missing.map((t) => t.cmd).join(", ")}, not found on this machine; install them ` +
    `(Debian/Ubuntu, as root): ${aptInstallCommand(missing.map((t) => t.pkg))}`
  );
}
