/**
 * The one DPU-side lock (provider/ssh/assets/remote-lock.sh) that DpuUnderlay and DpuWorkload share, run locally
 * under every /bin/sh a DPU has: one holder; the same token re-takes it; another is refused; a lock is taken over
 * when its lease expired, when it has had no lease for 30 s (a taker that died between mkdir and writing it), or
 * when the caller proved its token stale; renew and release act only for the holder.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REMOTE_LOCK_SH } from "../../provider/ssh/remote-lock";
import { unavailable } from "../capabilities";

const SHELLS: Record<string, string[]> = {
  dash: ["/usr/bin/dash"],
  "busybox ash": ["/bin/busybox", "sh"],
  bash: ["/bin/bash"],
};
unavailable("remote lock tests (every shell)", "dpu-shells");

const root = mkdtempSync(join(tmpdir(), "pdu-remote-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `rl_<fn> args…` on lock `dir`; prints RL_TOOK after a take. */
function rl(argv: string[], dir: string, fn: string, ...args: string[]) {
  const script = `RL=$1; shift\n${REMOTE_LOCK_SH}\nrl_${fn} "$@"; rc=$?\n[ "${fn}" = take ] && printf 'took=%s\\n' "$RL_TOOK"\nexit $rc\n`;
  const r = spawnSync(argv[0]!, [...argv.slice(1), "-c", script, "rl", dir, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const holder = (dir: string) => readFileSync(join(dir, "holder"), "utf8");

describe.each(Object.entries(SHELLS).filter(([, a]) => existsSync(a[0]!)))(
  "remote lock under %s",
  (_n, sh) => {
    it("one holder; re-entry by its token; busy for another; renew and release only by the holder", () => {
      const dir = mkdtempSync(join(root, "l-"));
      const L = join(dir, "x.lock");
      expect(rl(sh, L, "take", "tok-a", "60", "host=a pid=1", "")).toMatchObject({ code: 0, out: "took=\n" });
      expect(holder(L)).toMatch(/^token=tok-a\nexpires=\d+\nsince=\d+\nwho=host=a pid=1\n$/);
      expect(rl(sh, L, "take", "tok-a", "60", "host=a pid=1", "").code).toBe(0);
      expect(rl(sh, L, "take", "tok-b", "60", "host=b pid=2", "").code).toBe(1);
      expect(rl(sh, L, "renew", "tok-b", "60").code).toBe(1);
      const since = /since=(\d+)/.exec(holder(L))?.[1];
      expect(rl(sh, L, "renew", "tok-a", "600").code).toBe(0);
      expect(holder(L)).toContain(`since=${since}\nwho=host=a pid=1\n`);
      rl(sh, L, "release", "tok-b");
      expect(existsSync(L)).toBe(true);
      rl(sh, L, "release", "tok-a");
      expect(existsSync(L)).toBe(false);
    });

    it("a busy answer names the holder that had just made the directory and not yet written its lease", () => {
      const dir = mkdtempSync(join(root, "l-"));
      const L = join(dir, "x.lock");
      // A holder between its mkdir and its lease: the lease appears 300 ms later.
      const script = `RL=$1\n${REMOTE_LOCK_SH}\nmkdir "$RL"\n( sleep 0.3; printf 'token=tok-a\\nexpires=%s\\nsince=1\\nwho=host=a pid=7\\n' $(( $(date +%s) + 60 )) >"$RL/holder" ) &\nrl_take tok-b 60 B ""; rc=$?\nprintf 'rc=%s who=%s\\n' "$rc" "$(rl_field "$RL/holder" who)"\nwait\n`;
      const r = spawnSync(sh[0]!, [...sh.slice(1), "-c", script, "rl", L], { encoding: "utf8" });
      expect(r.stdout).toBe("rc=1 who=host=a pid=7\n");
    });

    it("takes over an expired lease, a proven-stale token, and a lock that has had no lease for 30 s", () => {
      const dir = mkdtempSync(join(root, "l-"));
      const L = join(dir, "x.lock");
      expect(rl(sh, L, "take", "tok-a", "60", "A", "").code).toBe(0);
      // The caller proved tok-a stale (its process is gone): taken over, naming who held it.
      expect(rl(sh, L, "take", "tok-b", "60", "B", "tok-a")).toMatchObject({ code: 0, out: "took=A\n" });
      // A stale token that is not the holder's changes nothing.
      expect(rl(sh, L, "take", "tok-c", "60", "C", "tok-a").code).toBe(1);
      writeFileSync(join(L, "holder"), "token=tok-b\nexpires=1\nsince=1\nwho=B\n");
      expect(rl(sh, L, "take", "tok-c", "60", "C", "")).toMatchObject({ code: 0, out: "took=B\n" });
      // No lease: refused while young, taken over once the directory is older than 30 s.
      rmSync(join(L, "holder"));
      expect(rl(sh, L, "take", "tok-d", "60", "D", "").code).toBe(1);
      const old = new Date(Date.now() - 60_000);
      utimesSync(L, old, old);
      expect(rl(sh, L, "take", "tok-d", "60", "D", "")).toMatchObject({
        code: 0,
        out: "took=an unknown holder\n",
      });
      expect(existsSync(`${L}.steal`)).toBe(false);
    });
  },
);
