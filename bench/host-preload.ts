/**
 * Preloaded (`--require`) into the plugin host when the benchmark profiles it: starts V8's sampling profiler
 * through the inspector (Node 20 refuses `--cpu-prof` in NODE_OPTIONS) when it receives SIGUSR2 (the benchmark
 * sends it before the warm rounds, so start-up and connection setup stay out) and, on SIGTERM, writes it to
 * `$BENCH_CPU_PROF_DIR/host-<pid>.cpuprofile` (the `.cpuprofile` format of `node --cpu-prof`), then exits.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  process.on("SIGUSR2", () => session.post("Profiler.start"));
  process.on("SIGTERM", () => {
    session.post("Profiler.stop", (err, res) => {
      if (!err) writeFileSync(join(dir, `host-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
      process.exit(0);
    });
  });
}
