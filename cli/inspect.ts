import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { parseArgs } from "node:util";
import { isRedfishHttpError } from "../provider/errors/redfish-http-error";
import {
  type BmcCapabilities,
  closeAllPools,
  describeSystems,
  discover,
  RedfishClient,
} from "../provider/redfish";
import { tlsVerifyCode } from "../provider/redfish/tls";
import { PasswordPromptError, readPassword } from "./password-prompt";

const HELP = `usage: pulumi-dpu inspect --endpoint URL --username U [--password-env VAR] [--ca-cert FILE | --insecure]
                          [--system-id ID] [--json]

Prints what a BMC supports for DpuHost: systems, virtual media, boot targets, reset types, Settings object,
BootProgress, UpdateService targets and the recommended boot method. Only GET requests are sent.
The password comes from the environment variable named by --password-env, else a prompt on the terminal
(not echoed), else the first line of standard input.
`;

/** What a DpuHost on this BMC must declare or will be refused, as inspect warns it. */
export function warnings(c: BmcCapabilities): string[] {
  const out: string[] = [];
  if (!c.bootProgress.supported)
    out.push(
      "no BootProgress: DpuHost needs ready.ssh to observe the boot (it refuses to provision without it)",
    );
  if (c.update.simpleUpdateTarget && c.update.transferProtocols.length > 0) {
    const web = c.update.transferProtocols.filter((p) => p === "HTTP" || p === "HTTPS");
    if (web.length === 0)
      out.push(
        `SimpleUpdate fetches only over ${c.update.transferProtocols.join(", ")}: image.url must be ${c.update.transferProtocols.map((p) => `${p.toLowerCase()}://`).join(" or ")} for simpleUpdate`,
      );
  }
  return out;
}

/**
 * Capabilities as `inspect --json` prints them: no `sessionsPath` where the BMC links no SessionService (it is
 * only where a login would be tried), and each virtual-media slot marked `used` when DpuHost would use it.
 */
export function jsonOf(c: BmcCapabilities): unknown {
  const { sessionsPath, ...rest } = c;
  return {
    ...(c.sessionServiceLinked === false ? {} : { sessionsPath }),
    ...rest,
    virtualMedia: {
      ...c.virtualMedia,
      slots: c.virtualMedia.slots.map((s) => ({ ...s, used: c.virtualMedia.chosen?.path === s.path })),
    },
  };
}

/** Renders capabilities as a readable two-column table. */
export function renderTable(c: BmcCapabilities): string {
  const vm = c.virtualMedia;
  const rows: [string, string][] = [
    ["Redfish", `${c.redfishVersion ?? "?"} ${c.vendor ?? ""} ${c.product ?? ""}`.trim()],
    ["BMC firmware", c.firmwareVersion ?? "?"],
    ["Systems", c.systemsSeen ? describeSystems(c.systemsSeen) : c.systems.join(", ")],
    ["DPU system", `${c.systemPath}${c.systemType ? ` (SystemType ${c.systemType})` : ""}`],
    [
      "Sessions",
      c.sessionServiceLinked === false
        ? "none (the service root links no SessionService: HTTP Basic only)"
        : c.sessionsPath,
    ],
    [
      "Virtual media",
      vm.location === "none"
        ? "none"
        : `under the ${vm.location}${vm.linkedFromSystem && vm.location === "manager" ? " (linked from the system)" : ""}`,
    ],
    ...vm.slots.map((s): [string, string] => [
      `  slot ${s.id}`,
      `${s.under !== vm.location ? `under the ${s.under} (deprecated); ` : ""}${s.mediaTypes.join("/") || "?"}; ${s.insertTarget ? "InsertMedia action" : s.patchable ? "PATCH fallback" : "not driveable"}${s.transferMethods ? `; TransferMethod ${s.transferMethods.join("/")}` : ""}${s.inserted ? `; inserted ${s.image ?? ""}` : ""}${vm.chosen?.path === s.path ? "  <- used" : ""}`,
    ]),
    ["Boot targets", c.boot.targets.join(", ") || "(not advertised)"],
    ["Boot modes", c.boot.modes.join(", ") || "(not advertised)"],
    [
      "Settings object",
      c.boot.settingsPath ??
        (c.boot.settingsIgnored
          ? `not used: ${c.boot.settingsIgnored}`
          : "none (boot PATCHes go to the system)"),
    ],
    ["Boot object", c.boot.present ? "yes" : "no (no boot override can be set on this system)"],
    ["HttpBootUri", c.boot.httpBootUri ? "yes" : "no"],
    ["Reset types", c.reset.types.join(", ") || "(not advertised)"],
    ["Manager reset", c.managerResetTarget ? c.managerResetTypes.join(", ") || "yes" : "no"],
    [
      "BootProgress",
      c.bootProgress.supported
        ? `yes${c.bootProgress.oem ? " (OEM states)" : ""}${c.bootProgress.timed === false ? "; no LastStateTime" : ""}`
        : "no: DpuHost needs ready.ssh to observe the boot",
    ],
    [
      "SimpleUpdate",
      c.update.simpleUpdateTarget
        ? `yes; protocols ${
            c.update.transferProtocols.length > 0
              ? `${c.update.transferProtocols.join(", ")}${c.update.transferProtocolsFrom === "actionInfo" ? " (from its ActionInfo)" : ""}`
              : "not advertised"
          }`
        : "no",
    ],
    ["OS update targets", c.update.osTargets.join(", ") || "none"],
    ["Boot methods", c.methods.join(", ") || "none"],
    ...Object.entries(c.unavailable ?? {}).map(([m, why]): [string, string] => [`  not ${m}`, why]),
    ["Recommended", c.recommended ?? "none: DpuHost cannot provision this BMC"],
    ...warnings(c).map((w): [string, string] => ["Warning", w]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n")}\n`;
}

/**
 * What the user should change when `inspect` failed on its options rather than on the BMC: refused credentials
 * (the BMC's own wording, e.g. "no valid session", names no option) or a refused certificate (not retried).
 * Undefined for other failures, which are reported as they are.
 */
export function failureHint(
  err: unknown,
  endpoint: string,
  username: string,
  caCertGiven: boolean,
): string | undefined {
  const tls = tlsVerifyCode(err) ?? (err instanceof Error ? tlsVerifyCode(err.cause) : undefined);
  if (tls !== undefined) {
    const fix = caCertGiven
      ? "check that --ca-cert is the CA that signed the BMC's certificate"
      : "pass --ca-cert FILE (PEM of the CA that signed the BMC's certificate)";
    return `the TLS certificate of BMC ${endpoint} was refused (${tls}); ${fix}, or --insecure for a lab BMC`;
  }
  // The BMC's wording names the provider's input; on the command line it is an option.
  if (err instanceof Error && /\bbmc\.systemId\b/.test(err.message)) {
    return err.message
      .replace(/\bSet bmc\.systemId\b/g, "Pass --system-id")
      .replace(/\bbmc\.systemId\b/g, "--system-id");
  }
  if (isRedfishHttpError(err) && err.status === 0 && endpoint.startsWith("http://")) {
    return (
      `BMC ${endpoint} gave no HTTP answer (${err.message}); Redfish BMCs serve HTTPS: check the scheme ` +
      "(https://) and the port"
    );
  }
  if (isRedfishHttpError(err) && (err.status === 401 || err.status === 403)) {
    return (
      `BMC ${endpoint} rejected the credentials of user '${username}' (HTTP ${err.status}): ` +
      "check --username and the password (--password-env VAR or the prompt)"
    );
  }
  return undefined;
}

/** A usage error: the message and the help on stderr, exit code 2 (as for every usage error of the CLI). */
function usageError(message: string): number {
  process.stderr.write(`pulumi-dpu inspect: ${message}\n\nRun 'pulumi-dpu inspect --help' for usage.\n`);
  return 2;
}

/**
 * Why nothing answers at `endpoint`'s host and port (connection refused), or undefined when a TCP connection
 * opens (or the check cannot tell in time: the client then reports what it finds). Refused is not retried.
 */
function refusedProblem(endpoint: URL): Promise<string | undefined> {
  const port = Number(endpoint.port || (endpoint.protocol === "http:" ? 80 : 443));
  const host = endpoint.hostname.replace(/^\[|\]$/g, "");
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 3_000 });
    const end = (why: string | undefined) => {
      socket.destroy();
      done(why);
    };
    socket.once("connect", () => end(undefined));
    socket.once("timeout", () => end(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) =>
      end(
        e.code === "ECONNREFUSED"
          ? `cannot connect to BMC ${endpoint.href} (ECONNREFUSED: nothing listens on ${host} port ${port}); ` +
              "check the scheme (https://) and the port of --endpoint"
          : undefined,
      ),
    );
  });
}

/** `pulumi-dpu inspect`: prints a BMC's capabilities. */
export async function inspect(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (e) {
    // node:util parseArgs: an unknown option, a missing value… are usage errors.
    if (String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS"))
      return usageError((e as Error).message);
    throw e;
  }
  return run(parsed.values);
}

function parseOptions(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      endpoint: { type: "string" },
      username: { type: "string" },
      "password-env": { type: "string" },
      "ca-cert": { type: "string" },
      insecure: { type: "boolean", default: false },
      "system-id": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
}

async function run(values: ReturnType<typeof parseOptions>["values"]): Promise<number> {
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.endpoint || !values.username) {
    process.stderr.write(`pulumi-dpu inspect: --endpoint and --username are required\n\n${HELP}`);
    return 2;
  }
  let endpoint: URL;
  try {
    endpoint = new URL(values.endpoint);
  } catch {
    return usageError(`--endpoint ${values.endpoint}: not a URL (e.g. https://bmc.example)`);
  }
  if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") {
    return usageError(`--endpoint ${values.endpoint}: the scheme must be https:// (or http://)`);
  }
  // Read before the password prompt, and named: a missing file is the user's option, not a BMC failure.
  let caCert: string | undefined;
  const caFile = values["ca-cert"];
  if (caFile !== undefined) {
    try {
      caCert = readFileSync(caFile, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      return usageError(
        `--ca-cert ${caFile}: cannot read the CA certificate (${code}: ${(e as Error).message})`,
      );
    }
  }
  const envName = values["password-env"];
  let password: string | undefined;
  try {
    password = envName
      ? process.env[envName]
      : await readPassword(`BMC password for ${values.username}: `, process.stdin, process.stderr);
  } catch (e) {
    if (!(e instanceof PasswordPromptError)) throw e;
    process.stderr.write(
      `pulumi-dpu inspect: no password: ${e.message}; set --password-env VAR (the name of an environment variable holding it) or run in a terminal\n`,
    );
    return 2;
  }
  if (!password) {
    process.stderr.write(
      `pulumi-dpu inspect: no password (${envName ? `environment variable ${envName} is empty` : "empty input"})\n`,
    );
    return 2;
  }
  const refused = await refusedProblem(endpoint);
  if (refused) {
    process.stderr.write(`pulumi-dpu inspect: ${refused}\n`);
    return 1;
  }
  const client = new RedfishClient({
    endpoint: values.endpoint,
    username: values.username,
    password,
    ...(caCert !== undefined ? { caCert } : {}),
    insecureSkipVerify: values.insecure,
    preferBasic: true,
    // Plain HTTP to a Redfish BMC (HTTPS) gets no HTTP answer: fail at once with the scheme hint, no retries.
    ...(endpoint.protocol === "http:" ? { retryAttempts: 1 } : {}),
  });
  try {
    const caps = await discover(client, values["system-id"] ? { systemId: values["system-id"] } : {});
    process.stdout.write(values.json ? `${JSON.stringify(jsonOf(caps), null, 2)}\n` : renderTable(caps));
    return 0;
  } catch (e) {
    const hint = failureHint(e, values.endpoint, values.username, values["ca-cert"] !== undefined);
    if (hint === undefined) throw e;
    process.stderr.write(`pulumi-dpu inspect: ${hint}\n`);
    return 1;
  } finally {
    await client.close();
    await closeAllPools();
  }
}
