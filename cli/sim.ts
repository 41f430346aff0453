/**
 * `pulumi-dpu sim`: starts a simulated DPU lab, writes its endpoints file, and runs until SIGINT/SIGTERM.
 */
import { rename, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ALL_BMC_PROFILES } from "../simulator/contracts";
import { DPU_SHELLS, type DpuShell, isDpuShell, LAB_SHELL_ENV } from "../simulator/dpu";
import { type LabProfile, startLab } from "../simulator/lab";

const HELP = `usage: pulumi-dpu sim --count N --endpoints-file FILE [options]

Starts a DPU lab: one Redfish BMC (HTTPS on 127.0.0.1) per DPU, each DPU a network namespace running a real
sshd on its management address (198.18.x.y), data ports p0/p1 on a simulated top-of-rack switch, an image
server and a control API for fault injection. Needs root.

options:
  --count N             number of DPUs (1..1000, required)
  --profile P           BMC profile: ${ALL_BMC_PROFILES.join(", ")} or mixed (default: generic;
                        capture-* profiles serve the Redfish captures in shared/redfish/mockups)
  --boot-time-ms MS     time from reset to OS running (default: 3000)
  --blank               DPUs start without an operating system (default: factory image dpu-os-1.0.iso)
  --shell S             the DPU OS image's /bin/sh: dash (Debian/Ubuntu-like image, root's login shell bash) or
                        busybox (minimal image: busybox ash is /bin/sh and root's login shell, no bash); one
                        name for every DPU or a comma-separated list, one per DPU (default: $${LAB_SHELL_ENV}
                        when set, else dash)
  --state-dir DIR       where the lab keeps its files (default: a new temporary directory, removed at exit)
  --endpoints-file FILE where to write the endpoints JSON once every DPU is ready (required)
  -h, --help            show this help

The control API's root URL serves a live fleet dashboard (open it in a browser).
The lab runs in the foreground; Ctrl-C (SIGINT) or SIGTERM stops it and removes everything it created.
`;

function fail(message: string): number {
  process.stderr.write(`pulumi-dpu sim: ${message}\n\nRun 'pulumi-dpu sim --help' for usage.\n`);
  return 2;
}

/** Runs the `sim` subcommand with `argv` (the arguments after `sim`); resolves to the exit code. */
export async function sim(argv: readonly string[]): Promise<number> {
  let values: {
    count?: string;
    profile?: string;
    "boot-time-ms"?: string;
    blank?: boolean;
    shell?: string;
    "state-dir"?: string;
    "endpoints-file"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: "string" },
        profile: { type: "string" },
        "boot-time-ms": { type: "string" },
        blank: { type: "boolean" },
        shell: { type: "string" },
        "state-dir": { type: "string" },
        "endpoints-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const count = Number(values.count);
  if (values.count === undefined || !Number.isInteger(count) || count < 1) {
    return fail("--count must be a positive integer");
  }
  const profile = values.profile ?? "generic";
  if (profile !== "mixed" && !(ALL_BMC_PROFILES as readonly string[]).includes(profile)) {
    return fail(`--profile must be one of ${ALL_BMC_PROFILES.join(", ")}, mixed`);
  }
  const bootTimeMs = values["boot-time-ms"] === undefined ? undefined : Number(values["boot-time-ms"]);
  if (bootTimeMs !== undefined && (!Number.isFinite(bootTimeMs) || bootTimeMs < 0)) {
    return fail("--boot-time-ms must be a non-negative number");
  }
  let shell: DpuShell | DpuShell[] | undefined;
  if (values.shell !== undefined) {
    const names = values.shell.split(",");
    const bad = names.find((n) => !isDpuShell(n));
    if (bad !== undefined) return fail(`--shell: unknown shell '${bad}' (known: ${DPU_SHELLS.join(", ")})`);
    const list = names.filter(isDpuShell);
    shell = list.length === 1 ? list[0] : list;
  }
  if (!values["endpoints-file"]) return fail("--endpoints-file is required");
  const endpointsFile = resolve(values["endpoints-file"]);

  const log = (m: string): void => {
    process.stdout.write(`[sim] ${m}\n`);
  };
  // Signals that arrive while starting are honoured once the lab is up (or has failed).
  const stopSignal = new Promise<NodeJS.Signals>((res) => {
    process.once("SIGINT", res);
    process.once("SIGTERM", res);
  });

  const started = Date.now();
  log(`starting ${count} DPU(s), profile ${profile}${values.blank ? ", blank" : ""}`);
  const lab = await startLab({
    count,
    profile: profile as LabProfile,
    ...(bootTimeMs !== undefined ? { bootTimeMs } : {}),
    ...(values["state-dir"] ? { stateDir: values["state-dir"] } : {}),
    blank: values.blank === true,
    ...(shell !== undefined ? { shell } : {}),
    onProgress: log,
  });
  try {
    // Written aside, then renamed: a script waiting for the file never reads half of it.
    const partial = `${endpointsFile}.${process.pid}.tmp`;
    await writeFile(partial, `${JSON.stringify(lab.endpoints, null, 2)}\n`, { mode: 0o600 });
    await rename(partial, endpointsFile);
    log(
      `lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s; endpoints written to ${endpointsFile}`,
    );
    const shown = lab.endpoints.dpus.slice(0, 8);
    for (const d of shown) {
      log(
        `${d.name.padEnd(8)} ${d.profile.padEnd(10)} BMC ${d.bmc.url} (system ${d.bmc.systemId})  ` +
          `ssh -i ${d.ssh.privateKeyFile} ${d.ssh.username}@${d.ssh.host}`,
      );
    }
    if (lab.endpoints.dpus.length > shown.length)
      log(`… and ${lab.endpoints.dpus.length - shown.length} more`);
    log(`BMC user 'admin', passwords and CA (${lab.caFile}) are in the endpoints file`);
    log(`control API ${lab.controlUrl} (GET /state), images ${lab.imageBaseUrl}`);
    if (lab.dashboardUrl) log(`live fleet dashboard ${lab.dashboardUrl}`);
    log("press Ctrl-C to stop");
    const signal = await stopSignal;
    log(`${signal}: stopping the lab`);
  } finally {
    await lab.stop();
  }
  log("lab stopped");
  return 0;
}
