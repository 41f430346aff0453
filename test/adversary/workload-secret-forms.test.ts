import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { createDpuWorkloadProvider } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { connectionFor, labUnavailable } from "../workload/helpers";

// Issue 12 review of log scrubbing: a secret holding a quote, a backslash, a space or a non-ASCII letter reaches
// an error or the log tail escaped (a workload that prints its configuration as JSON, a URL it requests), and only
// the raw value was scrubbed. The escaped forms are written here by Python (json.dumps, urllib.parse.quote) on
// the DPU, not by the code under test.

const skip = labUnavailable() !== undefined;
const pool = createSshConnector();
const provider = createDpuWorkloadProvider({ connector: pool });
const lines: string[] = [];
let restoreSink: (() => void) | undefined;
let lab: Lab;

const SECRET = 'tök"en\\Zq9 x<&>';

describe.skipIf(skip)("DpuWorkload scrubs a secret's escaped forms", () => {
  beforeAll(async () => {
    restoreSink = setLogSink((_l, line) => lines.push(line));
    lab = await startLab({ count: 1, bootTimeMs: 0, shell: ["dash"] });
  });
  afterAll(async () => {
    restoreSink?.();
    await pool.closeAll();
    await lab?.stop();
  });

  test("a workload printing its secret as JSON and URL-encoded, then failing: the error and logs hold none of them", async () => {
    const script = [
      "import json, os, sys, urllib.parse",
      't = os.environ["TOKEN"]',
      'print("config", json.dumps({"token": t}))',
      'print("config", json.dumps({"token": t}, ensure_ascii=False))',
      'print("GET /login?token=" + urllib.parse.quote(t, safe=""))',
      'print("POST " + urllib.parse.urlencode({"token": t}))',
      "sys.stdout.flush()",
      "sys.exit(3)",
    ].join("; ");
    const r = await provider.check!(
      {},
      {
        connection: connectionFor(lab.endpoints, 0),
        name: "forms",
        runtime: "process",
        restart: "no",
        owner: "p/a/forms",
        command: ["python3", "-c", script],
        secretEnv: { TOKEN: SECRET },
      },
    );
    expect(r.failures).toEqual([]);
    const err = await provider.create!(r.inputs).then(
      () => undefined,
      (e: unknown) => e as Error & { id?: string; properties?: { logTail?: string } },
    );
    expect(err).toBeInstanceOf(Error);
    const text = [err?.message ?? "", err?.properties?.logTail ?? "", ...lines].join("\n");
    // The workload's lines reached the error (so the check below is about them, not about missing output).
    expect(err?.message).toContain("GET /login?token=[secret]");
    expect(err?.message).toContain('config {"token": "[secret]"}');
    const forms = [
      SECRET,
      JSON.stringify(SECRET).slice(1, -1),
      't\\u00f6k\\"en\\\\Zq9 x<&>',
      encodeURIComponent(SECRET),
      new URLSearchParams([["t", SECRET]]).toString().slice(2),
      "Zq9",
    ];
    for (const f of forms) expect(text, f).not.toContain(f);
    await provider.delete!(err?.id ?? "", (err?.properties ?? r.inputs) as never);
  });
});
