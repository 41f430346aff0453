import { readFileSync } from "node:fs";
import type { SshConnector, SshSession, SshTarget } from "../../provider/ssh/types";
import type { EndpointsFile } from "../../simulator/contracts";
import { unavailable } from "../capabilities";

/** Why the lab cannot run here, or `undefined`. Under CI a missing prerequisite fails instead of skipping. */
export function labUnavailable(): string | undefined {
  return unavailable("workload lab tests", "lab");
}

/** The `connection` input for one lab DPU. */
export function connectionFor(ep: EndpointsFile, index = 0, pinHostKey = true): Record<string, unknown> {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index} in the lab`);
  return {
    host: d.ssh.host,
    port: d.ssh.port,
    username: d.ssh.username,
    privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
    ...(pinHostKey ? { hostKey: d.ssh.hostKeyFingerprint } : {}),
    dialAttempts: 3,
    dialTimeoutMs: 5000,
  };
}

/** A connector wrapper counting round trips (exec/run and SFTP writes) per session. */
export class CountingConnector implements SshConnector {
  execs = 0;
  writes = 0;
  constructor(private readonly inner: SshConnector) {}
  async session(target: SshTarget): Promise<SshSession> {
    const s = await this.inner.session(target);
    const self = this;
    return {
      label: s.label,
      hostKeyFingerprint: s.hostKeyFingerprint,
      exec(argv, opts) {
        self.execs++;
        return s.exec(argv, opts);
      },
      run(argv, opts) {
        self.execs++;
        return s.run(argv, opts);
      },
      writeFileAtomic(path, data, mode) {
        self.writes++;
        return s.writeFileAtomic(path, data, mode);
      },
    };
  }
  invalidate(target: SshTarget): void {
    this.inner.invalidate(target);
  }
  closeAll(): Promise<void> {
    return this.inner.closeAll();
  }
  reset(): void {
    this.execs = 0;
    this.writes = 0;
  }
}
