import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EndpointsFile } from "../../simulator";

/** The interpreter that sees Debian's python3-sushy, and Ansible (test/capabilities.ts checks both). */
const SYSTEM_PYTHON = "/usr/bin/python3";
const ANSIBLE_PLAYBOOK = "/usr/bin/ansible-playbook";
const HERE = __dirname;

/** One DPU of the lab's endpoints file. */
export type OracleDpu = EndpointsFile["dpus"][number];

/** What a client run left: exit status, its report (parsed JSON) and its output for failure messages. */
export interface ClientRun {
  readonly code: number;
  readonly report: Record<string, unknown> | undefined;
  readonly output: string;
}

/**
 * What to provision: an ISO through virtual media, a bundle through SimpleUpdate (no virtual media), or
 * nothing but a one-time boot override and a restart (no virtual media, no usable SimpleUpdate).
 */
export type OraclePlan =
  | { readonly image: string }
  | { readonly bfb: string; readonly bfbTarget: string }
  | { readonly restartOnly: true };

/** Runs a program to its end (killed after `timeoutMs`): exit code, stdout and stderr. */
export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Environment of a client: credentials in REDFISH_USERNAME / REDFISH_PASSWORD, never on argv. */
function clientEnv(dpu: OracleDpu, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: process.env.HOME ?? "/root",
    LANG: "C.UTF-8",
    REDFISH_USERNAME: dpu.bmc.username,
    REDFISH_PASSWORD: dpu.bmc.password,
    ...extra,
  };
}

/** Hides the BMC password in client output before it reaches a test failure message. */
function scrub(text: string, dpu: OracleDpu): string {
  return text.split(dpu.bmc.password).join("***");
}

/** Runs Ironic's Redfish library (sushy) through test/oracles/sushy-provision.py. */
export async function runSushy(dpu: OracleDpu, plan: OraclePlan, timeoutMs = 120_000): Promise<ClientRun> {
  const dir = await mkdtemp(join(tmpdir(), "oracle-sushy-"));
  try {
    const config = join(dir, "config.json");
    await writeFile(
      config,
      JSON.stringify({ url: dpu.bmc.url, caFile: dpu.bmc.caCertFile, systemId: dpu.bmc.systemId, ...plan }),
    );
    const r = await run(
      SYSTEM_PYTHON,
      [join(HERE, "sushy-provision.py")],
      clientEnv(dpu, { ORACLE_CONFIG: config }),
      timeoutMs,
    );
    let report: Record<string, unknown> | undefined;
    try {
      report = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
    } catch {
      report = undefined;
    }
    return { code: r.code, report, output: scrub(`${r.stdout}\n${r.stderr}`, dpu) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One Ansible inventory host: its key (the host name), BMC, plan, and whether to power off and on (not restart). */
export interface AnsibleJob {
  readonly key: string;
  readonly dpu: OracleDpu;
  readonly plan: OraclePlan;
  /** Power off, wait for Off, power on (a BMC that applies power changes late); default: ForceRestart. */
  readonly powerOffOn?: boolean;
}

/** What the json stdout callback prints (the parts read here). */
interface AnsibleJsonOutput {
  readonly plays?: readonly {
    readonly tasks?: readonly {
      readonly task?: { readonly name?: string };
      readonly hosts?: Readonly<Record<string, Record<string, unknown>>>;
    }[];
  }[];
}

/** Per host: the `report` the playbook's last task printed, and one line per failed task. */
function readAnsibleJson(
  stdout: string,
): Map<string, { report?: Record<string, unknown>; failures: string[] }> {
  const out = new Map<string, { report?: Record<string, unknown>; failures: string[] }>();
  let doc: AnsibleJsonOutput;
  try {
    doc = JSON.parse(stdout.slice(Math.max(0, stdout.indexOf("{")))) as AnsibleJsonOutput;
  } catch {
    return out;
  }
  for (const play of doc.plays ?? []) {
    for (const t of play.tasks ?? []) {
      for (const [host, r] of Object.entries(t.hosts ?? {})) {
        const h = out.get(host) ?? { failures: [] };
        out.set(host, h);
        if (r.failed === true) h.failures.push(`${t.task?.name ?? "?"}: ${JSON.stringify(r.msg ?? r)}`);
        if (t.task?.name === "Report" && typeof r.report === "object" && r.report !== null)
          h.report = r.report as Record<string, unknown>;
      }
    }
  }
  return out;
}

/**
 * Runs Ansible's community.general redfish modules through test/oracles/ansible-provision.yml: one
 * ansible-playbook run, one inventory host per DPU (Ansible's startup is paid once; hosts run in parallel).
 * Returns one result per job key (the inventory host name); a host that failed has no report.
 */
export async function runAnsible(
  jobs: readonly AnsibleJob[],
  timeoutMs = 570_000,
): Promise<Map<string, ClientRun>> {
  const dir = await mkdtemp(join(tmpdir(), "oracle-ansible-"));
  try {
    const hosts: Record<string, Record<string, string | boolean>> = {};
    const creds: Record<string, string> = {};
    jobs.forEach(({ key, dpu, plan, powerOffOn }, i) => {
      const v: Record<string, string | boolean> = {
        ansible_connection: "local",
        ansible_python_interpreter: SYSTEM_PYTHON,
        baseuri: new URL(dpu.bmc.url).host,
        system_id: dpu.bmc.systemId,
        cred_key: String(i),
        power_off_on: powerOffOn === true,
      };
      hosts[key] =
        "image" in plan
          ? { ...v, image: plan.image }
          : "bfb" in plan
            ? { ...v, bfb: plan.bfb, bfb_target: plan.bfbTarget }
            : v;
      creds[`REDFISH_USERNAME_${i}`] = dpu.bmc.username;
      creds[`REDFISH_PASSWORD_${i}`] = dpu.bmc.password;
    });
    const inventory = join(dir, "inventory.json");
    await writeFile(inventory, JSON.stringify({ all: { hosts } }));
    const r = await run(
      ANSIBLE_PLAYBOOK,
      ["-i", inventory, "--forks", String(Math.max(1, jobs.length)), join(HERE, "ansible-provision.yml")],
      {
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: process.env.HOME ?? "/root",
        LANG: "C.UTF-8",
        ...creds,
        ANSIBLE_LOCAL_TEMP: join(dir, "tmp"),
        ANSIBLE_PIPELINING: "1",
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
        ANSIBLE_DEPRECATION_WARNINGS: "0",
        ANSIBLE_STDOUT_CALLBACK: "json",
      },
      timeoutMs,
    );
    const results = readAnsibleJson(r.stdout);
    const out = new Map<string, ClientRun>();
    for (const { key } of jobs) {
      const h = results.get(key);
      let output = h
        ? h.failures.join("\n") || "(no failed task)"
        : `ansible-playbook exit ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`;
      for (const j of jobs) output = scrub(output, j.dpu);
      out.set(key, { code: h?.report ? 0 : r.code || 1, report: h?.report, output });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
