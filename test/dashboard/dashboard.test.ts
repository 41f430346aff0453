import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { createDashboard, type FleetSnapshot } from "../../simulator/lab/dashboard";
import { CHROMIUM, type DpuEndpoint, redfishReset, skipDashboard, ssh, until } from "./helpers";

const SKIP = skipDashboard();

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Opens an SSE stream and resolves with the first snapshot it carries, plus a way to close it. */
async function openEvents(url: string): Promise<{ first: FleetSnapshot; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("event stream ended before a snapshot");
    buf += decoder.decode(value, { stream: true });
    const m = /^data: (.*)\n\n/m.exec(buf);
    if (m) return { first: JSON.parse(m[1]!) as FleetSnapshot, close: () => abort.abort() };
  }
}

describe.skipIf(SKIP)("live fleet dashboard (lab of 2 DPUs)", () => {
  let lab: Lab;
  let ep: (i: number) => DpuEndpoint;
  let factoryLabel: string;

  beforeAll(async () => {
    lab = await startLab({ count: 2, bootTimeMs: 200 });
    ep = (i) => lab.endpoints.dpus[i]!;
    factoryLabel = lab.endpoints.images.files.find((f) => f.name === "dpu-os-1.0.iso")!.label!;
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("serves a self-contained page and a JSON snapshot of what each DPU shows", async () => {
    expect(lab.dashboardUrl).toBe(`${lab.controlUrl}/`);
    const page = await fetch(lab.dashboardUrl!);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('new EventSource("api/events")');
    // No external assets: nothing is loaded from anywhere (the CSP would block it too).
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|<script\s+src/i);

    const snap = (await (await fetch(`${lab.controlUrl}/api/fleet`)).json()) as FleetSnapshot;
    expect(snap.summary).toEqual({ total: 2, running: 2, booting: 0, failed: 0, off: 0 });
    expect(snap.dpus.map((d) => d.name)).toEqual(["dpu-0", "dpu-1"]);
    for (const [i, d] of snap.dpus.entries()) {
      expect(d).toMatchObject({
        profile: "generic",
        status: "running",
        power: "On",
        bootProgress: { lastState: "OSRunning" },
        osRunning: true,
        ssh: "up",
        mgmtIp: ep(i).ssh.host,
        hostname: `dpu-${i}`,
        image: { label: factoryLabel, kind: "iso" },
        workloads: [],
      });
      expect(d.image!.sha256).toMatch(/^[0-9a-f]{64}$/);
      // Underlay as the kernel reports it: data ports only, never lo or the management port.
      expect(d.links.map((l) => l.name)).toEqual(["p0", "p1"]);
      expect(d.links[0]).toMatchObject({ mtu: 1500, mac: ep(i).ports[1]!.mac });
    }
    // The control API is still there.
    expect((await fetch(`${lab.controlUrl}/state`)).status).toBe(200);
    expect((await fetch(`${lab.controlUrl}/api/fleet`, { method: "POST" })).status).toBe(405);
  });

  it("observes only while a client is connected, and bounds live clients", async () => {
    const dash = createDashboard(lab.dpus.values(), { intervalMs: 150, maxClients: 2 });
    const server: Server = createServer((req, res) => {
      if (!dash.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await new Promise((r) => setTimeout(r, 400));
      expect(dash.stats()).toMatchObject({ clients: 0, polling: false, observations: 0 });

      const a = await openEvents(`${base}/api/events`);
      expect(a.first.dpus).toHaveLength(2);
      const b = await openEvents(`${base}/api/events`);
      const third = await fetch(`${base}/api/events`);
      expect(third.status).toBe(503);
      await third.body?.cancel();
      expect(dash.stats().clients).toBe(2);
      const start = dash.stats().observations;
      await until("the live poll to run", () => (dash.stats().observations >= start + 3 ? true : undefined));
      expect(dash.stats().polling).toBe(true);

      a.close();
      b.close();
      await until("the poll to stop", () => {
        const s = dash.stats();
        return s.clients === 0 && !s.polling ? true : undefined;
      });
      const idle = dash.stats().observations;
      await new Promise((r) => setTimeout(r, 500));
      expect(dash.stats().observations).toBe(idle);

      // /api/fleet observes once per request burst (concurrent requests share one observation), then stops.
      const snaps = await Promise.all([1, 2, 3].map(() => fetch(`${base}/api/fleet`).then((r) => r.json())));
      expect(snaps).toHaveLength(3);
      expect(dash.stats().observations).toBe(idle + 1);
      expect(dash.stats().polling).toBe(false);
    } finally {
      dash.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("shows the fleet live in headless Chromium and follows SSH and Redfish changes without reload", async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), "pulumi-dpu-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 640 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      let navigations = 0;
      page.on("framenavigated", (f) => {
        if (f === page.mainFrame()) navigations++;
      });
      await page.goto(lab.dashboardUrl!);

      const card = (name: string) => page.locator(`[data-dpu="${name}"]`);
      const field = (name: string, f: string) => card(name).locator(`[data-field="${f}"]`);
      for (const name of ["dpu-0", "dpu-1"]) {
        await field(name, "power").filter({ hasText: /^On$/ }).waitFor({ timeout: 10_000 });
        expect(await field(name, "image").textContent()).toBe(factoryLabel);
        expect(await field(name, "ssh").textContent()).toBe("up");
        expect(await field(name, "status").textContent()).toBe("running");
        expect(await card(name).locator('[data-link="p0"]').count()).toBe(1);
      }
      expect(await page.locator("#sum-total").textContent()).toBe("2");
      expect(await page.locator("#sum-running").textContent()).toBe("2");
      await page.evaluate(() => {
        (globalThis as unknown as { dashboardMarker?: number }).dashboardMarker = 4242;
      });

      // Change the hardware from outside: an address and a workload on dpu-0 over SSH, power off dpu-1 over Redfish.
      const address = `198.19.${lab.slot}.77/24`;
      const r = await ssh(
        ep(0),
        `ip addr add ${address} dev p0 && { setsid sleep 4242 </dev/null >/dev/null 2>&1 & }`,
      );
      expect(r.code).toBe(0);
      const status = await redfishReset(ep(1), "ForceOff");
      expect(status).toBeGreaterThanOrEqual(200);
      expect(status).toBeLessThan(300);

      await card("dpu-0")
        .locator('[data-link="p0"]')
        .filter({ hasText: address })
        .waitFor({ timeout: 10_000 });
      await field("dpu-0", "workloads").filter({ hasText: "sleep 4242" }).waitFor({ timeout: 10_000 });
      await field("dpu-1", "power").filter({ hasText: /^Off$/ }).waitFor({ timeout: 10_000 });
      await until("the summary to count dpu-1 off", async () =>
        (await page.locator("#sum-off").textContent()) === "1" ? true : undefined,
      );
      expect(await field("dpu-1", "status").textContent()).toBe("off");
      expect(await field("dpu-1", "ssh").textContent()).toBe("off");
      expect(await page.locator("#sum-running").textContent()).toBe("1");
      expect(await field("dpu-0", "power").textContent()).toBe("On");

      // Same document all along: no reload, no navigation.
      expect(
        await page.evaluate(() => (globalThis as unknown as { dashboardMarker?: number }).dashboardMarker),
      ).toBe(4242);
      expect(navigations).toBe(1);
      expect(problems).toEqual([]);

      mkdirSync("test-results", { recursive: true });
      await page.screenshot({ path: join("test-results", "dashboard.png"), fullPage: true });
    } finally {
      await context?.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
