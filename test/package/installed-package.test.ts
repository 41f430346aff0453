/**
 * The user's first hour, outside the clone: `npm pack` this package, install the tarball with `@pulumi/pulumi`
 * and `typescript` into a fresh project in the temporary directory, then
 * - the tarball holds the runtime only (no test or bench code, no source maps, the assets the CLI needs);
 * - the project has ONE `@pulumi/pulumi` (a peer dependency, not a second copy under pulumi-dpu);
 * - every README TypeScript sample and every TSDoc `@example` of sdk/*.ts compiles under `strict`;
 * - `npx pulumi-dpu sim`, `inspect` (against that lab's BMC) and `demo` run from the installed package.
 *
 * Needs `npm run build` first (npm test runs it), root (the lab) and the npm cache or registry.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointsFile } from "../../simulator/contracts";
import { skipUnless } from "../capabilities";
import { skipLab } from "../sim-lab/helpers";

const run = promisify(execFile);
const REPO = join(__dirname, "..", "..");
const SKIP = skipLab();
const BUILT = !SKIP && !skipUnless("installed-package test", "dist");

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
};

/** The user's environment: this Node (≥ 22, type stripping) first on PATH, as for `npx` in their project. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  };
  for (const k of Object.keys(env)) {
    // Vitest's own settings and the clone's npm run context must not leak into the user's project.
    if (k === "NODE_OPTIONS" || k.startsWith("VITEST") || k.startsWith("npm_package_") || k === "INIT_CWD")
      delete env[k];
  }
  return env;
}

/** README ```ts blocks. */
export function readmeSamples(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

/** TSDoc `@example` ```ts blocks of a source file, without the leading ` * `. */
export function tsdocExamples(source: string): string[] {
  return [...source.matchAll(/@example\s*\n\s*\*\s*```(?:ts|typescript)?\n([\s\S]*?)\n\s*\*\s*```/g)].map(
    (m) =>
      (m[1] ?? "")
        .split("\n")
        .map((l) => l.replace(/^\s*\* ?/, ""))
        .join("\n"),
  );
}

/**
 * Names samples use without declaring them (they stand for the user's own values), with their types. A name is
 * declared in a sample's prelude only when the sample uses it and does not declare it itself.
 */
const FREE_NAMES: Record<string, string> = {
  labCa: "string",
  cfg: "pulumi.Config",
  underlay: "DpuUnderlay",
  host: "DpuHost",
};
const SDK_NAMES = ["DpuFleet", "DpuHost", "DpuNode", "DpuUnderlay", "DpuWorkload"];

/** A compilable module: the sample, after the imports and declarations it assumes. */
export function withPrelude(sample: string): string {
  const lines: string[] = [];
  if (!/^import /m.test(sample)) {
    lines.push('import * as pulumi from "@pulumi/pulumi";');
    lines.push(`import { ${SDK_NAMES.join(", ")} } from "pulumi-dpu";`);
    lines.push(`void pulumi; void [${SDK_NAMES.join(", ")}];`);
  }
  for (const [name, type] of Object.entries(FREE_NAMES)) {
    const used = new RegExp(`\\b${name}\\b`).test(sample);
    const declared = new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(sample);
    if (used && !declared) lines.push(`declare const ${name}: ${type};`);
  }
  return `${lines.join("\n")}\n${sample}\nexport {};\n`;
}

/** Waits for `file` (the sim writes it once every DPU is ready) or for the process to die. */
async function waitForFile(file: string, child: ChildProcess, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`pulumi-dpu sim exited with ${child.exitCode}:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`no endpoints file after ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(SKIP || !BUILT)("the packed package, installed in a user project outside the clone", () => {
  const work = mkdtempSync(join(tmpdir(), "dpu-user-"));
  const project = join(work, "project");
  let tarball = "";
  let files: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // The tarball of what `npm run build` produced (scripts off: prepare would rebuild the shared dist/).
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
      cwd: REPO,
      env: userEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info[0]?.filename ?? "");
    files = (info[0]?.files ?? []).map((f) => f.path);

    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify({ name: "my-dpus", version: "1.0.0", private: true }, null, 2)}\n`,
    );
    const t0 = Date.now();
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        // Install scripts off: ssh2's optional native cpu-features build takes minutes on two cores and is not
        // what this test is about (ssh2 works without it).
        "--ignore-scripts",
        tarball,
        `@pulumi/pulumi@${pkg.devDependencies["@pulumi/pulumi"]}`,
        `typescript@${pkg.devDependencies.typescript}`,
        // What examples/fleet's devDependencies add (its tsconfig uses the node types).
        `@types/node@${pkg.devDependencies["@types/node"]}`,
      ],
      { cwd: project, env: userEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 150_000 },
    );
    console.log(`npm install of the tarball in a fresh project: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 200_000);

  afterAll(() => {
    for (const c of children) {
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(-c.pid, "SIGINT");
        } catch {
          // Already gone.
        }
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("ships the runtime only: no test or bench code, no source maps; the CLI's assets are there", () => {
    expect(files.length).toBeGreaterThan(0);
    const offending = files.filter(
      (f) => /(^|\/)(test|tests|bench)\//.test(f) || f.endsWith(".map") || /\.test\.[cm]?[jt]s$/.test(f),
    );
    expect(offending).toEqual([]);
    for (const asset of [
      "bin/pulumi-dpu.js",
      "dist/cli/main.js",
      "dist/sdk/index.d.ts",
      "examples/fleet/index.ts",
      "examples/fleet/Pulumi.yaml",
      "simulator/vm/build-image.sh",
      "schema.json",
      // Shell sent to DPUs and the dashboard's browser script: assets that `npm run build` copies into dist/.
      "dist/provider/ssh/assets/remote-lock.sh",
      "dist/provider/workload/assets/ctl.sh",
      "dist/provider/workload/assets/supervisor.sh",
      "dist/provider/underlay/assets/apply.sh",
      "dist/simulator/lab/dashboard/assets/page.js",
    ]) {
      expect(files).toContain(asset);
    }
    const installed = JSON.parse(
      readFileSync(join(project, "node_modules", "pulumi-dpu", "package.json"), "utf8"),
    ) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
    // What the provider, SDK and CLI need; gRPC and protobuf come with @pulumi/pulumi.
    expect(Object.keys(installed.dependencies).sort()).toEqual(["ssh2", "undici", "yaml", "zod"]);
    expect(installed.peerDependencies["@pulumi/pulumi"]).toMatch(/^\^3\./);
  });

  it("the installed code finds its assets inside the installed package, not in a clone", async () => {
    const installed = join(project, "node_modules", "pulumi-dpu");
    const script = [
      `const vm = require(${JSON.stringify(join(installed, "dist", "simulator", "vm", "image-build.js"))});`,
      `const demo = require(${JSON.stringify(join(installed, "dist", "cli", "demo-program.js"))});`,
      "console.log(JSON.stringify({ build: vm.buildScriptPath(), fleet: demo.fleetExampleDir() }));",
    ].join("\n");
    const r = await run(process.execPath, ["-e", script], { cwd: project, env: userEnv() });
    const paths = JSON.parse(r.stdout) as { build: string; fleet: string };
    expect(paths.build).toBe(join(installed, "simulator", "vm", "build-image.sh"));
    expect(paths.fleet).toBe(join(installed, "examples", "fleet"));
    expect(existsSync(paths.build)).toBe(true);
    // The provider's shell scripts load from the installed dist/, includes inlined.
    const scripts = [
      `const ctl = require(${JSON.stringify(join(installed, "dist", "provider", "workload", "ctl-script.js"))});`,
      `const u = require(${JSON.stringify(join(installed, "dist", "provider", "underlay", "scripts.js"))});`,
      "console.log(JSON.stringify([ctl.CTL_SH, u.LOCK_SCRIPT, u.APPLY_SCRIPT]));",
    ].join("\n");
    const sent = JSON.parse(
      (await run(process.execPath, ["-e", scripts], { cwd: project, env: userEnv() })).stdout,
    );
    for (const text of sent as string[]) {
      expect(text).not.toMatch(/^# @include /m);
      expect(text.length).toBeGreaterThan(500);
    }
    expect((sent as string[])[0]).toContain("rl_take()");
  });

  it("the project has one @pulumi/pulumi, shared by the program and pulumi-dpu", () => {
    expect(existsSync(join(project, "node_modules", "@pulumi", "pulumi", "package.json"))).toBe(true);
    expect(existsSync(join(project, "node_modules", "pulumi-dpu", "node_modules", "@pulumi"))).toBe(false);
  });

  it("every README TypeScript sample and every TSDoc @example of the SDK compiles under strict", async () => {
    const samples: [string, string][] = readmeSamples(readFileSync(join(REPO, "README.md"), "utf8")).map(
      (s, i) => [`readme-${i + 1}.ts`, s],
    );
    for (const f of readdirSync(join(REPO, "sdk")).filter((n) => n.endsWith(".ts"))) {
      for (const [i, s] of tsdocExamples(readFileSync(join(REPO, "sdk", f), "utf8")).entries()) {
        samples.push([`tsdoc-${f.replace(/\.ts$/, "")}-${i + 1}.ts`, s]);
      }
    }
    expect(samples.length).toBeGreaterThanOrEqual(3);
    const dir = join(project, "samples");
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of samples) writeFileSync(join(dir, name), withPrelude(text));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          types: [],
        },
        include: ["*.ts"],
      }),
    );
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    const r = await run(process.execPath, [tsc, "-p", dir], { cwd: project, env: userEnv() }).then(
      () => "",
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
    expect(r).toBe("");
  }, 120_000);

  it("examples/fleet, copied out of the installed package, names an installable pulumi-dpu and compiles", async () => {
    const installed = join(project, "node_modules", "pulumi-dpu");
    const version = (JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { version: string })
      .version;
    // As its README says: cp -r node_modules/pulumi-dpu/examples/fleet ./fleet (inside the user's project, whose
    // node_modules already hold what `npm install` in the copy would add).
    const fleet = join(project, "fleet");
    cpSync(join(installed, "examples", "fleet"), fleet, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(fleet, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies["pulumi-dpu"]).toBe(`^${version}`);
    expect(Object.values(manifest.dependencies).filter((v) => v.startsWith("file:"))).toEqual([]);
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    const r = await run(process.execPath, [tsc, "-p", fleet, "--noEmit"], {
      cwd: fleet,
      env: userEnv(),
    }).then(
      () => "",
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
    expect(r).toBe("");
  }, 120_000);

  it("npx pulumi-dpu sim, then inspect against its BMC, then demo", async () => {
    const lab = join(work, "lab");
    mkdirSync(lab);
    const endpointsFile = join(lab, "endpoints.json");
    let simOut = "";
    const sim = spawn(
      "npx",
      [
        "--no-install",
        "pulumi-dpu",
        "sim",
        "--count",
        "1",
        "--boot-time-ms",
        "200",
        "--endpoints-file",
        endpointsFile,
      ],
      // Its own process group, as in a terminal, so Ctrl-C (SIGINT to the group) reaches npx and the sim.
      { cwd: project, env: userEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    children.push(sim);
    sim.stdout.setEncoding("utf8").on("data", (d: string) => {
      simOut += d;
    });
    sim.stderr.setEncoding("utf8").on("data", (d: string) => {
      simOut += d;
    });
    // "close": npx and the sim it started have both closed their output (npx may end on the SIGINT first).
    const simClosed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      sim.once("close", (code, signal) => r({ code, signal })),
    );
    await waitForFile(endpointsFile, sim, () => simOut, 60_000);
    const endpoints = JSON.parse(readFileSync(endpointsFile, "utf8")) as EndpointsFile;
    const bmc = endpoints.dpus[0]?.bmc;
    if (!bmc) throw new Error("the endpoints file lists no DPU");

    const inspected = await run(
      "npx",
      [
        "--no-install",
        "pulumi-dpu",
        "inspect",
        "--endpoint",
        bmc.url,
        "--username",
        bmc.username,
        "--password-env",
        "BMC_PASSWORD",
        "--ca-cert",
        bmc.caCertFile,
      ],
      { cwd: project, env: userEnv({ BMC_PASSWORD: bmc.password }) },
    );
    expect(inspected.stdout).toMatch(/^Recommended\s+\S+/m);
    expect(inspected.stdout).not.toContain("none: DpuHost cannot provision");

    process.kill(-(sim.pid ?? 0), "SIGINT");
    const closed = await simClosed;
    expect(closed.code === 0 || closed.signal === "SIGINT").toBe(true);
    expect(simOut).toMatch(/SIGINT: stopping the lab[\s\S]*lab stopped/);

    const t0 = Date.now();
    const demo = await run(
      "npx",
      ["--no-install", "pulumi-dpu", "demo", "--count", "1", "--boot-time-ms", "200"],
      { cwd: project, env: userEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 150_000 },
    ).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`demo failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    });
    console.log(
      `npx pulumi-dpu demo --count 1 from the installed package: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(demo.stdout).toMatch(/Resources: 3 created/);
    expect(demo.stdout).toMatch(/Resources: 3 deleted/);
    expect(demo.stdout).toContain("lab stopped; nothing left behind");
    // Progress names the DPU (not only its BMC URL and "DPU 1"); the end says how to keep the dashboard alive.
    expect(demo.stdout).toMatch(/\[dpu\] DpuHost dpu-0-host \(BMC https:\/\/127\.0\.0\.1:\d+\): .*dpu-0/);
    expect(demo.stdout).toMatch(/\[dpu\] DpuHost dpu-0-host .*: provisioning system \S+ with /);
    expect(demo.stdout).not.toMatch(/DpuHost https:\/\/127\.0\.0\.1:\d+:/);
    expect(demo.stdout).toContain("--keep-running");
    // The demo ran the installed package's example, copied out of node_modules; nothing was written into it.
    expect(existsSync(join(project, "node_modules", "pulumi-dpu", "examples", "fleet", "node_modules"))).toBe(
      false,
    );
  }, 240_000);
});
