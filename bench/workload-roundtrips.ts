/**
 * Benchmark: SSH round trips (exec + SFTP writes) per DpuWorkload operation on the simulator, target 1 per
 * read. Run after `npm run build && npx tsc -p tsconfig.bench.json` with `node build/bench/bench/workload-roundtrips.js` (needs root, like the lab).
 * Prints one JSON document.
 */

import { readFileSync } from "node:fs";
import { createDpuWorkloadProvider } from "../provider/resources/dpu-workload";
import { createSshConnector } from "../provider/ssh";
import type { SshConnector, SshSession, SshTarget } from "../provider/ssh/types";
import { startLab } from "../simulator";

/** Counts round trips through a connector. */
class Counter implements SshConnector {
  trips = 0;
  constructor(private readonly inner: SshConnector) {}
  async session(t: SshTarget): Promise<SshSession> {
    const s = await this.inner.session(t);
    const bump = <T>(p: Promise<T>): Promise<T> => {
      this.trips++;
      return p;
    };
    return {
      label: s.label,
      hostKeyFingerprint: s.hostKeyFingerprint,
      exec: (a, o) => bump(s.exec(a, o)),
      run: (a, o) => bump(s.run(a, o)),
      writeFileAtomic: (p, d, m) => bump(s.writeFileAtomic(p, d, m)),
    };
  }
  invalidate(t: SshTarget): void {
    this.inner.invalidate(t);
  }
  closeAll(): Promise<void> {
    return this.inner.closeAll();
  }
}

/** Runs the benchmark and returns round trips per operation and read latency. */
export async function benchWorkloadRoundTrips(reads = 20): Promise<Record<string, number>> {
  const lab = await startLab({ count: 1, bootTimeMs: 0 });
  const pool = createSshConnector();
  const counter = new Counter(pool);
  const p = createDpuWorkloadProvider({ connector: counter });
  try {
    const d = lab.endpoints.dpus[0]!;
    const news = (
      await p.check!(
        {},
        {
          connection: {
            host: d.ssh.host,
            port: d.ssh.port,
            privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
            hostKey: d.ssh.hostKeyFingerprint,
          },
          name: "bench",
          runtime: "process",
          command: ["sleep", "600"],
          artifacts: [{ source: { content: "payload\n" }, destination: "/opt/bench/payload.txt" }],
          health: { command: ["true"], intervalMs: 200 },
        },
      )
    ).inputs;
    counter.trips = 0;
    const c = await p.create!(news);
    const create = counter.trips;
    counter.trips = 0;
    const t0 = performance.now();
    for (let i = 0; i < reads; i++) await p.read!(c.id, c.outs);
    const readMs = (performance.now() - t0) / reads;
    const perRead = counter.trips / reads;
    counter.trips = 0;
    await p.delete!(c.id, c.outs);
    return { createRoundTrips: create, roundTripsPerRead: perRead, readMs, deleteRoundTrips: counter.trips };
  } finally {
    await pool.closeAll();
    await lab.stop();
  }
}

if (require.main === module) {
  benchWorkloadRoundTrips().then(
    (r) =>
      console.log(JSON.stringify({ bench: "workload-roundtrips", target: { roundTripsPerRead: 1 }, ...r })),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
