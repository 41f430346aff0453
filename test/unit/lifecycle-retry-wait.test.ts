import { describe, expect, it } from "vitest";
import { TimeoutError } from "../../provider/errors";
import { KeyedMutex, pollUntil, withRetry } from "../../provider/lifecycle";

describe("withRetry", () => {
  it("retries until success within the attempt budget", async () => {
    let calls = 0;
    const retries: number[] = [];
    const v = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error("busy");
        return "ok";
      },
      { attempts: 5, minDelayMs: 1, maxDelayMs: 5, retryOn: () => true, onRetry: (_e, a) => retries.push(a) },
    );
    expect(v).toBe("ok");
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it("stops at once when retryOn declines and rethrows the error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error("fatal");
        },
        { attempts: 5, minDelayMs: 1, maxDelayMs: 5, retryOn: () => false },
      ),
    ).rejects.toThrow("fatal");
    expect(calls).toBe(1);
  });

  it("gives up after the last attempt", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`try ${calls}`);
        },
        { attempts: 3, minDelayMs: 1, maxDelayMs: 2, retryOn: () => 1 },
      ),
    ).rejects.toThrow("try 3");
  });
});

describe("KeyedMutex", () => {
  it("serialises one key and runs different keys in parallel", async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const job = (key: string, tag: string, ms: number) =>
      m.run(key, async () => {
        order.push(`start ${tag}`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`end ${tag}`);
      });
    await Promise.all([job("bmc-a", "a1", 20), job("bmc-a", "a2", 1), job("bmc-b", "b1", 1)]);
    expect(order.indexOf("end a1")).toBeLessThan(order.indexOf("start a2"));
    expect(order.indexOf("start b1")).toBeLessThan(order.indexOf("end a1"));
    expect(m.size).toBe(0);
  });
});

describe("pollUntil", () => {
  it("returns the value and reports status changes", async () => {
    let n = 0;
    const lines: string[] = [];
    const v = await pollUntil(
      async () => {
        n++;
        return n < 3 ? { done: false, status: `state ${n}` } : { done: true, value: n, status: "OSRunning" };
      },
      { what: "BootProgress", timeoutMs: 1000, intervalMs: 1, onProgress: (l) => lines.push(l) },
    );
    expect(v).toBe(3);
    expect(lines.some((l) => l.includes("last: state 1"))).toBe(true);
    expect(lines.at(-1)).toContain("done");
  });

  it("times out with the last status in the error", async () => {
    const err = await pollUntil(async () => ({ done: false, status: "OSBootStarted" }), {
      what: "BootProgress OSRunning",
      timeoutMs: 30,
      intervalMs: 5,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/BootProgress OSRunning.*last: OSBootStarted/);
  });

  it("treats declared transient errors as not-yet", async () => {
    let n = 0;
    const v = await pollUntil(
      async () => {
        n++;
        if (n === 1) throw new Error("ECONNREFUSED");
        return { done: true, value: "up", status: "ssh ok" };
      },
      { what: "SSH", timeoutMs: 1000, intervalMs: 1, transient: (e) => String(e).includes("ECONNREFUSED") },
    );
    expect(v).toBe("up");
  });
});
