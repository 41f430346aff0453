import { spawnSync } from "node:child_process";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { logger } from "../../provider/log";
import type { ExecOptions, ExecResult, SshSession } from "../../provider/ssh";
import { shellQuote, withSudo } from "../../provider/ssh";
import type { UnderlayPlan } from "../../provider/underlay/planner";
import {
  applyWithRollback,
  readObserved,
  removeRemoteFiles,
  writeRemoteFile,
} from "../../provider/underlay/remote";
import { ctl, ctlArgv, remoteStatus } from "../../provider/workload/remote";

// Every remote command the providers build is an argv turned into one shell line by quoting (what sshd hands to
// the login shell as `$SHELL -c <line>`). Proof of injection safety: for fuzzed data in every builder, the argv
// survives a real shell unchanged — each argument comes out as exactly one argument, byte for byte.

const SHELLS = ["sh", "bash"].filter((s) => spawnSync(s, ["-c", "true"]).status === 0);
const NASTY = [..."'\"`$\\;&|<>(){}[]*?!~#%^=,:\n\t\r -_./@+"];

/** Strings a shell might misread: quotes, expansions, separators, globs, newlines, options, unicode. */
const arg = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 24 }),
  fc.string({ unit: "grapheme", maxLength: 24 }),
  fc.string({ unit: "binary-ascii", maxLength: 24 }).map((s) => s.replace(/\0/g, "")),
  fc.constantFrom(
    "",
    "-",
    "--",
    "-n",
    "-e",
    "$(id)",
    "`id`",
    "$" + "{HOME}",
    "'$(id)'",
    "a'b",
    "*",
    "~root",
    "\\",
    "!!",
  ),
);

/** A recording SshSession: keeps every argv, answers like a healthy DPU. */
function recorder(argvs: string[][]): SshSession {
  const answer = (argv: readonly string[]): ExecResult => {
    argvs.push([...argv]);
    const action = argv[4];
    if (argv[3] === "pulumi-dpu-read")
      return {
        exitCode: 0,
        stderr: "",
        stdout: JSON.stringify({
          links: [],
          addrs: [],
          routes4: [],
          routes6: [],
          hostname: "",
          resolv: "",
          record: "",
          sshConnection: "",
          backends: { netplan: false, networkmanager: false, networkd: false },
        }),
      };
    if (action === "status") return { exitCode: 0, stderr: "", stdout: '{"present":false}' };
    return { exitCode: 0, stderr: "", stdout: "" };
  };
  return {
    label: "fuzz",
    hostKeyFingerprint: "SHA256:x",
    exec: async (argv: readonly string[], _o?: ExecOptions) => answer(argv),
    run: async (argv: readonly string[], _o?: ExecOptions) => answer(argv),
    writeFileAtomic: async () => {},
  };
}

/**
 * Runs every argv through `shell -c <quoted line>`, batched (each line prints its argument count, then each
 * argument, NUL-terminated). Returns the argv lists the shell saw.
 */
function throughShell(shell: string, argvs: readonly (readonly string[])[], sudo: boolean): string[][] {
  const lines = argvs.map((argv) => {
    // The same quoting as the SSH transport; `printf` stands in for the program and receives the arguments.
    const line = shellQuote(withSudo(argv, sudo));
    const prefix = sudo ? "sudo -n -- " : "";
    return `printf '%s\\0' ${argv.length} ${line.slice(prefix.length)}`;
  });
  // One `shell -c` per batch, each under the kernel's 128 KiB limit for one argument (sshd passes `-c <line>`).
  const batches: string[] = [];
  let cur = "";
  for (const l of lines) {
    if (cur && Buffer.byteLength(cur) + Buffer.byteLength(l) > 100_000) {
      batches.push(cur);
      cur = "";
    }
    cur += `${l}\n`;
  }
  if (cur) batches.push(cur);
  const out: string[][] = [];
  for (const script of batches) {
    const res = spawnSync(shell, ["-c", script], {
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(res.error, String(res.error)).toBeUndefined();
    expect(res.status, res.stderr?.toString()).toBe(0);
    const fields = res.stdout.toString("utf8").split("\0").slice(0, -1);
    for (let i = 0; i < fields.length; ) {
      const n = Number(fields[i]);
      out.push(fields.slice(i + 1, i + 1 + n));
      i += 1 + n;
    }
  }
  return out;
}

/**
 * Checks that every argv survives sh and bash. The static scripts (long arguments) are checked the first time
 * they appear; later copies are replaced by a placeholder so the shells parse the fuzzed data, not 10 KiB of
 * the same script thousands of times.
 */
function expectRoundTrip(all: string[][]): void {
  expect(all.length).toBeGreaterThan(0);
  const seenLong = new Set<string>();
  const argvs = all.map((argv) =>
    argv.map((a) => {
      if (a.length < 512) return a;
      if (!seenLong.has(a)) {
        seenLong.add(a);
        return a;
      }
      return "<static script, checked above>";
    }),
  );
  for (const shell of SHELLS) {
    const seen = throughShell(shell, argvs, false);
    expect(seen.length).toBe(argvs.length);
    // First difference only (a diff of thousands of scripts would be unreadable).
    const bad = argvs.findIndex((a, i) => JSON.stringify(a) !== JSON.stringify(seen[i]));
    expect(bad >= 0 ? { shell, sent: argvs[bad], seen: seen[bad] } : undefined).toBeUndefined();
  }
}

const CASES = 1_000;

describe.skipIf(SHELLS.length === 0)(
  "remote command builders are injection-safe (real shells: sh, bash)",
  () => {
    it(`shellQuote: ${CASES} fuzzed argv lists round-trip (and with sudo -n --)`, () => {
      const samples = fc.sample(fc.array(arg, { minLength: 1, maxLength: 8 }), { numRuns: CASES, seed: 7 });
      expectRoundTrip(samples);
      // With sudo the line is `sudo -n -- <argv>`: the part after the prefix is the same quoting.
      expect(shellQuote(withSudo(["a b"], true))).toBe("sudo -n -- 'a b'");
      expect(() => shellQuote(["a\0b"])).toThrow(/NUL/);
    });

    it(`workload control commands (ctl, status): ${CASES} fuzzed names, roots and arguments`, async () => {
      const argvs: string[][] = [];
      const s = recorder(argvs);
      const runtimes = ["process", "systemd", "podman"] as const;
      const cases = fc.sample(fc.tuple(arg, arg, fc.array(arg, { maxLength: 4 }), fc.nat(2)), {
        numRuns: CASES,
        seed: 8,
      });
      for (const [root, name, extra, r] of cases) {
        const ref = { root, name, runtime: runtimes[r]! };
        await ctl(s, "prepare", ref, extra);
        await remoteStatus(s, ref, { health: true, logLines: 20 });
        argvs.push(ctlArgv("apply", ref, extra));
      }
      expect(argvs.length).toBe(3 * CASES);
      expectRoundTrip(argvs);
    });

    it(`underlay commands (read, write, remove, apply with probes): ${CASES} fuzzed ids, paths and probe targets`, async () => {
      const argvs: string[][] = [];
      const s = recorder(argvs);
      const log = logger("fuzz");
      const cases = fc.sample(
        fc.tuple(arg, arg, fc.array(arg, { minLength: 1, maxLength: 3 }), arg, fc.nat(65535)),
        {
          numRuns: CASES / 4,
          seed: 9,
        },
      );
      for (const [id, path, paths, host, port] of cases) {
        await readObserved(s, id);
        await writeRemoteFile(s, { path, mode: 0o644, content: "x" });
        await removeRemoteFiles(s, paths);
        const plan = {
          apply: [],
          restore: [],
          record: { version: 1, links: {}, vlans: [], routes: [], files: [] },
        };
        await applyWithRollback(s, {
          id,
          plan: plan as unknown as UnderlayPlan,
          record: plan.record as unknown as UnderlayPlan["record"],
          rollbackAfterSeconds: 30,
          probes: [{ ping: host }, { tcp: `${host}:${port}` }],
          connector: { session: async () => s, invalidate: () => {}, closeAll: async () => {} },
          target: {
            host: "x",
            port: 22,
            username: "root",
            jumpHosts: [],
            dialAttempts: 1,
            dialTimeoutMs: 1,
            keepaliveIntervalMs: 0,
            sudo: false,
          },
          log,
        });
      }
      expect(argvs.length).toBeGreaterThan(CASES);
      expectRoundTrip(argvs);
    });
  },
);
