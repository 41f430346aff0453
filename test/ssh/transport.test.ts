import { statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerSecret } from "../../provider/log";
import { createSshConnector, type SshPool, type SshTarget } from "../../provider/ssh";
import { createSshd, freePort, type SshdFixture, sshdTarget, sshdUnavailable } from "./sshd-fixture";

const missing = sshdUnavailable("SSH transport tests");

const targetFor = sshdTarget;

describe.skipIf(missing !== undefined)(
  `SSH transport against a real sshd${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let sshd: SshdFixture;
    let pool: SshPool;

    beforeAll(async () => {
      sshd = await createSshd();
      pool = createSshConnector();
    });
    afterAll(async () => {
      await pool?.closeAll();
      await sshd?.close();
    });

    it("runs commands, pins the host key and reuses one pooled connection", async () => {
      const s1 = await pool.session(targetFor(sshd));
      const s2 = await pool.session(targetFor(sshd));
      expect(s1.label).toBe(`root@127.0.0.1:${sshd.port}`);
      expect(s1.hostKeyFingerprint).toBe(sshd.hostKeyFingerprint);
      const dialsBefore = pool.dials;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? s1 : s2).exec(["echo", `n${i}`])),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`));
      expect(pool.dials).toBe(dialsBefore);
      expect(pool.size).toBe(1);
      const failed = await s1.exec(["sh", "-c", "echo oops >&2; exit 7"]);
      expect(failed).toEqual({ stdout: "", stderr: "oops\n", exitCode: 7 });
      await expect(s1.run(["sh", "-c", "exit 3"], { describe: "probe" })).rejects.toMatchObject({
        code: "DPU_SSH_COMMAND",
        exitCode: 3,
      });
    });

    it("accepts a public key line as the pin", async () => {
      const s = await pool.session(targetFor(sshd, { hostKey: sshd.hostPublicKey }));
      expect((await s.run(["true"])).exitCode).toBe(0);
    });

    it("refuses a host key mismatch at once, naming both fingerprints", async () => {
      const wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
      const started = Date.now();
      const err = await pool.session(targetFor(sshd, { hostKey: wrong, dialAttempts: 5 })).catch((e) => e);
      expect(err).toMatchObject({
        code: "DPU_SSH_HOST_KEY_MISMATCH",
        expected: wrong,
        actual: sshd.hostKeyFingerprint,
      });
      expect(err.message).toContain(wrong);
      expect(err.message).toContain(sshd.hostKeyFingerprint);
      expect(Date.now() - started).toBeLessThan(3_000); // not retried
    });

    it("passes any argument through unchanged (property-based)", async () => {
      const s = await pool.session(targetFor(sshd));
      const arg = fc.string({ unit: "binary", maxLength: 40 }).filter((a) => !a.includes("\u0000"));
      await fc.assert(
        fc.asyncProperty(fc.array(arg, { minLength: 1, maxLength: 6 }), async (args) => {
          const res = await s.run(["printf", "%s\\0", ...args]);
          const got = res.stdout.split("\u0000").slice(0, -1);
          expect(got).toEqual(args);
        }),
        { numRuns: 40 },
      );
    });

    it("cannot be made to run injected shell", async () => {
      const marker = join(sshd.dir, "injected");
      const hostile = [
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `; touch ${marker}`,
        `' ; touch ${marker}; '`,
        `"; touch ${marker}; "`,
        `\n touch ${marker}`,
        `| touch ${marker}`,
        `&& touch ${marker}`,
        "*",
        "-n",
      ];
      const s = await pool.session(targetFor(sshd));
      const res = await s.run(["printf", "%s\\0", ...hostile]);
      expect(res.stdout.split("\u0000").slice(0, -1)).toEqual(hostile);
      expect(() => statSync(marker)).toThrow();
    });

    it("delivers stdin (binary-safe) and prefixes sudo -n when asked", async () => {
      const s = await pool.session(targetFor(sshd));
      const payload = "line1\nsecret: x'y\"z $(no)\n";
      expect((await s.run(["cat"], { stdin: payload })).stdout).toBe(payload);
      const viaSudo = await s.exec(["true"], { sudo: true });
      // sudo may be absent on the test host: either it ran, or the shell reported sudo missing (127).
      expect([0, 127, 1]).toContain(viaSudo.exitCode);
      if (viaSudo.exitCode !== 0) expect(viaSudo.stderr).toMatch(/sudo/);
    });

    it("kills a command past its timeout and stops at the output limit", async () => {
      const s = await pool.session(targetFor(sshd));
      const started = Date.now();
      await expect(s.exec(["sleep", "10"], { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
      expect(Date.now() - started).toBeLessThan(3_000);
      await expect(s.exec(["head", "-c", "200000", "/dev/zero"], { maxOutputBytes: 1000 })).rejects.toThrow(
        /output exceeded 1000 bytes/,
      );
      // The connection is still usable afterwards.
      expect((await s.run(["echo", "ok"])).stdout).toBe("ok\n");
    });

    it("never puts a registered secret into an error message", async () => {
      registerSecret("hunter2-very-secret");
      const s = await pool.session(targetFor(sshd));
      const err = await s
        .run(["sh", "-c", "cat >&2; exit 4"], { stdin: "hunter2-very-secret", describe: "secret sink" })
        .catch((e) => e);
      expect(err.message).toContain("exited 4");
      expect(err.message).not.toContain("hunter2-very-secret");
    });

    it("writes files atomically over SFTP, creating parents", async () => {
      const s = await pool.session(targetFor(sshd));
      const path = join(sshd.dir, "a", "b", "file.conf");
      await s.writeFileAtomic(path, "one\n", 0o640);
      await s.writeFileAtomic(path, "two\n", 0o600);
      expect((await s.run(["cat", path])).stdout).toBe("two\n");
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const leftovers = (await s.run(["ls", "-A", join(sshd.dir, "a", "b")])).stdout.trim().split("\n");
      expect(leftovers).toEqual(["file.conf"]);
    });

    it("goes through a jump host", async () => {
      const bastion = {
        host: "127.0.0.1",
        port: sshd.port,
        username: "root",
        privateKey: sshd.clientKey,
        hostKey: sshd.hostKeyFingerprint,
      };
      const s = await pool.session(targetFor(sshd, { jumpHosts: [bastion, bastion] }));
      expect(s.hostKeyFingerprint).toBe(sshd.hostKeyFingerprint);
      expect((await s.run(["echo", "via"])).stdout).toBe("via\n");
    });

    it("evicts a dropped connection and re-dials on next use", async () => {
      const t = targetFor(sshd);
      const s = await pool.session(t);
      await s.run(["true"]);
      const before = pool.dials;
      sshd.dropConnections();
      await new Promise((r) => setTimeout(r, 300));
      expect((await s.run(["echo", "back"])).stdout).toBe("back\n");
      expect(pool.dials).toBeGreaterThan(before);
    });
  },
);

describe.skipIf(missing !== undefined)("SSH dial retries", () => {
  it("waits for a DPU that is still booting (connection refused is transient)", async () => {
    const port = await freePort();
    const late = await createSshd({ start: false, port });
    const pool = createSshConnector();
    try {
      const starting = new Promise((r) => setTimeout(r, 700)).then(() => late.start());
      const s = await pool.session(targetFor(late, { dialAttempts: 8 }));
      await starting;
      expect((await s.run(["echo", "up"])).stdout).toBe("up\n");
      expect(pool.dials).toBeGreaterThan(1);
    } finally {
      await pool.closeAll();
      await late.close();
    }
  });

  it("gives up after the configured attempts with a clear message", async () => {
    const port = await freePort();
    const pool = createSshConnector();
    const t: SshTarget = {
      host: "127.0.0.1",
      port,
      username: "root",
      password: "not-used-here",
      jumpHosts: [],
      dialAttempts: 2,
      dialTimeoutMs: 1_000,
      keepaliveIntervalMs: 0,
      sudo: false,
    };
    await expect(pool.session(t)).rejects.toMatchObject({ code: "DPU_SSH_CONNECT" });
    expect(pool.dials).toBe(2);
    await pool.closeAll();
  });
});
