import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { DpuHostInputs } from "../../provider/resources/dpu-host";

/** The compiled DpuHost provider the child process runs (`npm run build`). */
export const DPU_HOST_DIST = resolve(__dirname, "../../dist/provider/resources/dpu-host.js");
const LOG_DIST = resolve(__dirname, "../../dist/provider/log.js");

/** The provider process: the compiled DpuHost provider creating one DPU (inputs on stdin, never in argv). */
const CHILD = `
const { dpuHost } = require(process.argv[2]);
require(process.argv[3]).setLogSink(() => undefined);
let text = "";
process.stdin.setEncoding("utf8").on("data", (d) => (text += d)).on("end", () => {
  process.stdout.write("started\\n");
  dpuHost.create(JSON.parse(text)).then(() => process.exit(0), (e) => { process.stderr.write(String(e)); process.exit(1); });
});`;

/**
 * Provider processes to kill mid-create (kill -9, as a crashed or killed `pulumi up` leaves a BMC): each runs
 * the compiled DpuHost `create` on the inputs given, in its own process. `close` kills what still runs and
 * removes the scratch directory.
 */
export interface ProviderChildren {
  /** Starts a provider process creating a DpuHost from `inputs`. */
  start(inputs: DpuHostInputs): ChildProcess;
  /** kill -9 of `child`; resolves once it exited. */
  kill9(child: ChildProcess): Promise<void>;
  close(): void;
}

/** A set of provider processes sharing one scratch directory for the child script. */
export function providerChildren(): ProviderChildren {
  const dir = mkdtempSync(join(tmpdir(), "dpu-kill-"));
  const script = join(dir, "create.js");
  writeFileSync(script, CHILD);
  const children: ChildProcess[] = [];
  return {
    start(inputs) {
      const child = spawn(process.execPath, [script, DPU_HOST_DIST, LOG_DIST], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      children.push(child);
      child.stdin?.end(JSON.stringify(inputs));
      return child;
    },
    async kill9(child) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGKILL");
      await exited;
    },
    close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why the compiled provider is missing (`npm run build`), or undefined. */
export function providerDistMissing(): string | undefined {
  return existsSync(DPU_HOST_DIST) ? undefined : "dist/ is not built (npm run build)";
}
