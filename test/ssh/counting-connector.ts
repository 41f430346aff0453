import type { SshConnector, SshSession, SshTarget } from "../../provider/ssh/types";

/**
 * A connector wrapper counting SSH round trips of the sessions it gives: `execs` (exec/run) and `writes` (SFTP
 * writes); {@link CountingConnector.trips} is both. The one counter of the DpuWorkload and DpuUnderlay tests.
 */
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
  /** Every round trip so far: commands and file writes. */
  get trips(): number {
    return this.execs + this.writes;
  }
  reset(): void {
    this.execs = 0;
    this.writes = 0;
  }
}
