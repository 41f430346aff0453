/**
 * `pulumi-dpu inspect` as a user meets it: a password typed on a terminal is not echoed, a closed standard
 * input is an error (not a silent exit 0), refused credentials are named as such, and a refused certificate
 * fails at once with the --ca-cert hint.
 */
import { spawnSync } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPassword } from "../../cli/password-prompt";
import { skipUnless } from "../capabilities";
import { type Lab, PASS, startLab, USER } from "../sim-bmc/harness";
import { runInspect } from "./inspect-run";

const REPO = join(__dirname, "..", "..");
const BIN = join(REPO, "bin", "pulumi-dpu.js");
const BUILT = !skipUnless("cli-inspect", "dist");

/** A stand-in for a terminal on standard input: raw mode recorded, keystrokes pushed by the test. */
function fakeTty(): PassThrough & { isTTY: true; rawModes: boolean[]; setRawMode(m: boolean): void } {
  const s = new PassThrough() as PassThrough & {
    isTTY: true;
    rawModes: boolean[];
    setRawMode(m: boolean): void;
  };
  s.isTTY = true;
  s.rawModes = [];
  s.setRawMode = (m: boolean) => {
    s.rawModes.push(m);
  };
  return s;
}

describe("pulumi-dpu inspect: password prompt", () => {
  it("reads a typed password in raw mode and echoes none of it (backspace erases)", async () => {
    const tty = fakeTty();
    let shown = "";
    const p = readPassword("BMC password for root: ", tty, { write: (c: string) => (shown += c) });
    tty.write("s3cx");
    tty.write("\u007fret\r");
    await expect(p).resolves.toBe("s3cret");
    expect(shown).toBe("BMC password for root: \n");
    expect(tty.rawModes).toEqual([true, false]);
  });

  it("Ctrl-C at the prompt aborts instead of returning a partial password", async () => {
    const tty = fakeTty();
    const p = readPassword("pw: ", tty, { write: () => true });
    tty.write("abc\u0003");
    await expect(p).rejects.toThrow(/interrupted/);
    expect(tty.rawModes).toEqual([true, false]);
  });

  it.skipIf(!BUILT)(
    "with standard input closed, exits non-zero and says how to give the password",
    async () => {
      // stdin is /dev/null: closed before any password.
      const r = spawnSync(
        process.execPath,
        [BIN, "inspect", "--endpoint", "https://127.0.0.1:9", "--username", "root"],
        { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout: 20_000 },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/no password: standard input is closed/);
      expect(r.stderr).toContain("--password-env");
    },
  );
});

/** Python's pty module runs the CLI on a real terminal, types a password and returns what the terminal showed. */
const PTY_SCRIPT = `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
read(1.5)
os.write(fd, b"TypedSecret77\\r")
read(1.0)
os.kill(pid, 9)
sys.stdout.write(out.decode("utf8", "replace"))
`;
const HAVE_PYTHON = !skipUnless("cli-inspect on a terminal", "python3");

describe("pulumi-dpu inspect on a real terminal", () => {
  it.skipIf(!BUILT || !HAVE_PYTHON)("the prompt shows on the terminal; the typed password does not", () => {
    const r = spawnSync(
      "python3",
      [
        "-c",
        PTY_SCRIPT,
        process.execPath,
        BIN,
        "inspect",
        "--endpoint",
        "https://127.0.0.1:9",
        "--username",
        "root",
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(r.stdout).toContain("BMC password for root: ");
    expect(r.stdout).not.toContain("TypedSecret77");
  });
});

describe("pulumi-dpu inspect against a simulated BMC", () => {
  let lab: Lab;
  let url = "";
  beforeAll(async () => {
    lab = await startLab();
    const { bmc } = await lab.bmc("generic");
    url = bmc.url;
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("a wrong password blames the credentials and names the options, never the password", async () => {
    const r = await runInspect(
      [
        "--endpoint",
        url,
        "--username",
        USER,
        "--password-env",
        "CLI_INSPECT_PW",
        "--ca-cert",
        lab.pki.caFile,
      ],
      { CLI_INSPECT_PW: "not-the-password-42" },
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain(`rejected the credentials of user '${USER}' (HTTP 401)`);
    expect(r.err).toContain("--username");
    expect(r.err).not.toMatch(/no valid session/i);
    expect(r.err).not.toContain("not-the-password-42");
  });

  it("an untrusted certificate fails at once (no retries) with the --ca-cert hint", async () => {
    const t0 = Date.now();
    const r = await runInspect(["--endpoint", url, "--username", USER, "--password-env", "CLI_INSPECT_PW"], {
      CLI_INSPECT_PW: PASS,
    });
    const ms = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/TLS certificate of BMC .* was refused \([A-Z_]+\)/);
    expect(r.err).toContain("--ca-cert FILE");
    // Four retries with backoff take seconds; a refused certificate is not retried.
    expect(ms).toBeLessThan(1_500);
  });

  it("--system-id of a system the BMC lacks: the hint names the option, not the provider input", async () => {
    const r = await runInspect(
      [...["--endpoint", url, "--username", USER, "--password-env", "CLI_INSPECT_PW"]].concat([
        "--ca-cert",
        lab.pki.caFile,
        "--system-id",
        "7",
      ]),
      { CLI_INSPECT_PW: PASS },
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain("--system-id");
    expect(r.err).not.toContain("bmc.systemId");
  });

  it("http:// for an HTTPS BMC: one attempt, then a hint about the scheme and port", async () => {
    const plain = url.replace(/^https:/, "http:");
    const r = await runInspect(
      ["--endpoint", plain, "--username", USER, "--password-env", "CLI_INSPECT_PW"],
      {
        CLI_INSPECT_PW: PASS,
      },
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /BMC http:\/\/\S+ gave no HTTP answer .*check the scheme \(https:\/\/\) and the port/,
    );
  });

  it("the right password and CA: the capabilities table", async () => {
    const r = await runInspect(
      [
        "--endpoint",
        url,
        "--username",
        USER,
        "--password-env",
        "CLI_INSPECT_PW",
        "--ca-cert",
        lab.pki.caFile,
      ],
      { CLI_INSPECT_PW: PASS },
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Recommended\s+\S+/m);
  });
});

describe("pulumi-dpu inspect: usage errors and unreachable BMCs", () => {
  const base = ["--username", USER, "--password-env", "CLI_INSPECT_PW"];

  it("--ca-cert of a missing file names the option and exits 2 (a usage error), before any prompt", async () => {
    const r = await runInspect(
      ["--endpoint", "https://127.0.0.1:9", ...base, "--ca-cert", "/nonexistent.pem"],
      {
        CLI_INSPECT_PW: PASS,
      },
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--ca-cert \/nonexistent\.pem: cannot read the CA certificate \(ENOENT/);
  });

  it("an unknown option and an option without its value both exit 2, like a missing required option", async () => {
    const unknown = await runInspect(["--endpoint", "https://127.0.0.1:9", ...base, "--bogus"], {});
    const noValue = await runInspect([...base, "--endpoint"], {});
    const missing = await runInspect(base, {});
    expect([unknown.code, noValue.code, missing.code]).toEqual([2, 2, 2]);
    expect(unknown.err).toContain("--bogus");
    expect(noValue.err).toContain("--endpoint");
  });

  it("a port where nothing listens (ECONNREFUSED) fails at once with a scheme/port hint", async () => {
    // A port that was free a moment ago: listen on an ephemeral port, then close it.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = await runInspect(["--endpoint", `https://127.0.0.1:${port}`, ...base], {
      CLI_INSPECT_PW: PASS,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain("ECONNREFUSED");
    expect(r.err).toMatch(/check the scheme \(https:\/\/\) and the port/);
  });
});
