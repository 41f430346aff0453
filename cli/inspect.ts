import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type BmcCapabilities, closeAllPools, discover, RedfishClient } from "../provider/redfish";

const HELP = `usage: pulumi-dpu inspect --endpoint URL --username U [--password-env VAR] [--ca-cert FILE | --insecure]
                          [--system-id ID] [--json]

Prints what a BMC supports for DpuHost: systems, virtual media, boot targets, reset types, Settings object,
BootProgress, UpdateService targets and the recommended boot method. Only GET requests are sent.
The password comes from the environment variable named by --password-env, or a prompt.
`;

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** Renders capabilities as a readable two-column table. */
export function renderTable(c: BmcCapabilities): string {
  const vm = c.virtualMedia;
  const rows: [string, string][] = [
    ["Redfish", `${c.redfishVersion ?? "?"} ${c.vendor ?? ""} ${c.product ?? ""}`.trim()],
    ["BMC firmware", c.firmwareVersion ?? "?"],
    ["Systems", c.systems.join(", ")],
    ["DPU system", `${c.systemPath}${c.systemType ? ` (SystemType ${c.systemType})` : ""}`],
    ["Virtual media", vm.location === "none" ? "none" : `under the ${vm.location}`],
    ...vm.slots.map((s): [string, string] => [
      `  slot ${s.id}`,
      `${s.mediaTypes.join("/") || "?"}; ${s.insertTarget ? "InsertMedia action" : s.patchable ? "PATCH fallback" : "not driveable"}${s.transferMethods ? `; TransferMethod ${s.transferMethods.join("/")}` : ""}${s.inserted ? `; inserted ${s.image ?? ""}` : ""}${vm.chosen?.path === s.path ? "  <- used" : ""}`,
    ]),
    ["Boot targets", c.boot.targets.join(", ") || "(not advertised)"],
    ["Boot modes", c.boot.modes.join(", ") || "(not advertised)"],
    ["Settings object", c.boot.settingsPath ?? "none (boot PATCHes go to the system)"],
    ["HttpBootUri", c.boot.httpBootUri ? "yes" : "no"],
    ["Reset types", c.reset.types.join(", ") || "(not advertised)"],
    ["Manager reset", c.managerResetTarget ? c.managerResetTypes.join(", ") || "yes" : "no"],
    ["BootProgress", c.bootProgress.supported ? (c.bootProgress.oem ? "yes (OEM states)" : "yes") : "no"],
    [
      "SimpleUpdate",
      c.update.simpleUpdateTarget ? `yes; protocols ${c.update.transferProtocols.join(", ") || "any"}` : "no",
    ],
    ["OS update targets", c.update.osTargets.join(", ") || "none"],
    ["Boot methods", c.methods.join(", ") || "none"],
    ["Recommended", c.recommended ?? "none: DpuHost cannot provision this BMC"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n")}\n`;
}

/** `pulumi-dpu inspect`: prints a BMC's capabilities. */
export async function inspect(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
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
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.endpoint || !values.username) {
    process.stderr.write(`pulumi-dpu inspect: --endpoint and --username are required\n\n${HELP}`);
    return 2;
  }
  const envName = values["password-env"];
  const password = envName ? process.env[envName] : await prompt(`BMC password for ${values.username}: `);
  if (!password) {
    process.stderr.write(
      `pulumi-dpu inspect: no password (${envName ? `environment variable ${envName} is empty` : "empty input"})\n`,
    );
    return 2;
  }
  const client = new RedfishClient({
    endpoint: values.endpoint,
    username: values.username,
    password,
    ...(values["ca-cert"] ? { caCert: readFileSync(values["ca-cert"], "utf8") } : {}),
    insecureSkipVerify: values.insecure,
    preferBasic: true,
  });
  try {
    const caps = await discover(client, values["system-id"] ? { systemId: values["system-id"] } : {});
    process.stdout.write(values.json ? `${JSON.stringify(caps, null, 2)}\n` : renderTable(caps));
    return 0;
  } finally {
    await client.close();
    await closeAllPools();
  }
}
