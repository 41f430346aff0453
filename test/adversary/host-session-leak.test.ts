import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools, RedfishClient } from "../../provider/redfish";
import { providerShim } from "../../sdk/provider-shim";
import { type Lab, startLab } from "../../simulator";
import { serializeProvider } from "../engine/harness";
import { engineLabUnavailable, type HostEngine, hostSpec, startHostEngine, until } from "./host-helpers";

// Issue 12, item 10: every provider killed mid-create (kill -9: no logout) left one more Redfish session on the
// BMC, until its session limit refused every login. Now each run records its sessions (root-only registry, no
// tokens) and the next login deletes the ones whose process is gone: the count stays bounded.

const reason = engineLabUnavailable();
const KILLS = 4;

describe.skipIf(reason !== undefined)(
  `BMC sessions of killed providers do not pile up${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    let lab: Lab;
    let stateDir: string;
    let restoreLog: () => void;
    const previousStateDir = process.env.PULUMI_DPU_STATE_DIR;

    async function sessions(): Promise<string[]> {
      const d = lab.endpoints.dpus[0];
      if (!d) throw new Error("empty lab");
      const admin = new RedfishClient({
        endpoint: d.bmc.url,
        username: d.bmc.username,
        password: d.bmc.password,
        caCert: fs.readFileSync(d.bmc.caCertFile, "utf8"),
        auth: "basic",
      });
      const body = (await admin.get("/redfish/v1/SessionService/Sessions", { action: "list sessions" })).body;
      const members = (body.Members ?? []) as { "@odata.id": string }[];
      return members.map((m) => m["@odata.id"]);
    }

    beforeAll(async () => {
      restoreLog = setLogSink(() => undefined);
      stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "dpu-state-"));
      // The spawned hosts inherit it: this test's registry is its own.
      process.env.PULUMI_DPU_STATE_DIR = stateDir;
      lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 3000 });
    }, 180_000);

    afterAll(async () => {
      if (previousStateDir === undefined) delete process.env.PULUMI_DPU_STATE_DIR;
      else process.env.PULUMI_DPU_STATE_DIR = previousStateDir;
      restoreLog?.();
      await closeAllPools();
      await lab?.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }, 120_000);

    function registryFiles(): string[] {
      const dir = path.join(stateDir, "bmc-sessions");
      return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    }

    it(`kill -9 of the provider mid-create ${KILLS} times keeps the open sessions bounded, and a clean run leaves none`, async () => {
      const providerText = (await serializeProvider(providerShim("dpuHost"))).text;
      const counts: number[] = [];
      for (let i = 0; i < KILLS; i++) {
        const he: HostEngine = await startHostEngine(lab, "dpuadversary", providerText);
        try {
          const before = new Set(await sessions());
          // bmc.auth session: auto authenticates with Basic, which opens nothing to leak (issue 15).
          const spec = hostSpec(
            lab,
            providerText,
            "h-killed",
            0,
            "dpu-os-1.1.iso",
            { auth: "session" },
            { verify: false },
          );
          const creating = he.eh.engine.register(spec).catch(() => undefined);
          // Mid-create: this run's session is open on the BMC.
          let opened = false;
          // The provider records a session right after the BMC answers its login; a kill inside that
          // millisecond leaves one unrecorded session, which only the BMC's idle timeout ends. The kill waits for
          // the record so that the test measures the cleanup, not that window.
          const recordsBefore = new Set(registryFiles());
          const poll = setInterval(() => {
            sessions()
              .then((now) => {
                const recorded = registryFiles().some((f) => !recordsBefore.has(f));
                // With bmc.auth session, the new session deletes the dead runs' sessions right after its login:
                // the kill also waits for that (it never comes if the cleanup is broken: the wait times out).
                const reaped = !now.some((s) => before.has(s));
                if (recorded && reaped && now.some((s) => !before.has(s))) opened = true;
              })
              .catch(() => undefined);
          }, 50);
          try {
            await until("the provider's session to open", () => opened, 30_000);
          } finally {
            clearInterval(poll);
          }
          process.kill(-he.eh.host.pid, "SIGKILL");
          await creating;
        } finally {
          await he.close();
        }
        counts.push((await sessions()).length);
      }
      console.log(`active sessions after each kill: ${counts.join(", ")}`);
      // Without cleanup: 1, 2, 3, 4. With it, each login first deletes what the dead runs left (with Basic, before
      // opening its own session): only the killed run's own session is open. (Before the owner check saw a
      // killed-but-unreaped process as a zombie, it counted as alive here: 1, 2, 1, 2.)
      expect(Math.max(...counts)).toBeLessThanOrEqual(1);
      // One run that is not killed leaves nothing: it deletes every session of a dead run, then logs out.
      const d = lab.endpoints.dpus[0];
      if (!d) throw new Error("empty lab");
      const clean = new RedfishClient({
        endpoint: d.bmc.url,
        username: d.bmc.username,
        password: d.bmc.password,
        caCert: fs.readFileSync(d.bmc.caCertFile, "utf8"),
        auth: "session",
      });
      await clean.get("/redfish/v1/Systems", { action: "list systems" });
      await clean.close();
      expect(await sessions()).toEqual([]);
      // The registry names no token, and is root-only.
      const dir = path.join(stateDir, "bmc-sessions");
      expect(fs.statSync(dir).mode & 0o077).toBe(0);
      for (const f of fs.readdirSync(dir)) {
        expect(fs.statSync(path.join(dir, f)).mode & 0o077).toBe(0);
        expect(fs.readFileSync(path.join(dir, f), "utf8")).not.toMatch(/token/i);
      }
    }, 240_000);
  },
);
