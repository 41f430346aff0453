/**
 * Benchmark: SSH round trips per DpuUnderlay read on a warm connection (target 1) and apply latency on the
 * simulator. Run after `npm run build && npx tsc -p tsconfig.bench.json` with `node build/bench/bench/underlay-roundtrips.js` (needs root, like the lab).
 * Prints one JSON document.
 */

import { readFileSync } from "node:fs";
import {
  createDpuUnderlayProvider,
  DpuUnderlayInputsSchema,
  type DpuUnderlayOutputs,
} from "../provider/resources/dpu-underlay";
import { createSshConnector } from "../provider/ssh";
import type { SshConnector, SshSession, SshTarget } from "../provider/ssh/types";
import { startLab } from "../simulator";

/** Counts remote commands (round trips) through a connector. */
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

/** Runs the benchmark: round trips per read/create/update/delete, read and apply latency (ms). */
export async function benchUnderlayRoundTrips(reads = 20): Promise<Record<string, number>> {
  const lab = await startLab({ count: 1, bootTimeMs: 0 });
  const pool = createSshConnector();
  const counter = new Counter(pool);
  const provider = createDpuUnderlayProvider({ connector: counter });
  try {
    const d = lab.endpoints.dpus[0]!;
    const inputs = DpuUnderlayInputsSchema.parse({
      connection: {
        host: d.ssh.host,
        port: d.ssh.port,
        username: d.ssh.username,
        privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
        hostKey: d.ssh.hostKeyFingerprint,
      },
      interfaces: [
        { name: "p0", mtu: 1400, addresses: ["198.19.1.1/24"] },
        { name: "p1", addresses: ["198.19.2.1/24"] },
      ],
      routes: [{ destination: "198.19.200.0/24", via: "198.19.1.2" }],
    });
    let t = Date.now();
    let trips = counter.trips;
    const created = await provider.create!(inputs);
    const createMs = Date.now() - t;
    const createTrips = counter.trips - trips;
    const outs = created.outs as DpuUnderlayOutputs;
    await provider.read!(created.id, outs); // warm
    trips = counter.trips;
    t = Date.now();
    for (let i = 0; i < reads; i++) await provider.read!(created.id, outs);
    const readMs = (Date.now() - t) / reads;
    const readTrips = (counter.trips - trips) / reads;
    const changed = DpuUnderlayInputsSchema.parse({
      ...inputs,
      interfaces: [{ name: "p0", mtu: 1450, addresses: ["198.19.1.1/24"] }],
    });
    trips = counter.trips;
    t = Date.now();
    const updated = await provider.update!(created.id, outs, changed);
    const updateMs = Date.now() - t;
    const updateTrips = counter.trips - trips;
    trips = counter.trips;
    t = Date.now();
    await provider.delete!(created.id, updated.outs as DpuUnderlayOutputs);
    return {
      roundTripsPerRead: readTrips,
      readLatencyMs: Math.round(readMs),
      createRoundTrips: createTrips,
      createLatencyMs: createMs,
      updateRoundTrips: updateTrips,
      updateLatencyMs: updateMs,
      deleteRoundTrips: counter.trips - trips,
      deleteLatencyMs: Date.now() - t,
    };
  } finally {
    await pool.closeAll();
    await lab.stop();
  }
}

if (require.main === module) {
  benchUnderlayRoundTrips().then(
    (r) => process.stdout.write(`${JSON.stringify({ bench: "underlay-roundtrips", ...r }, null, 2)}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
