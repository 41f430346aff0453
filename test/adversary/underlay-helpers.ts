import {
  createDpuUnderlayProvider,
  type DpuUnderlayInputs,
  DpuUnderlayInputsSchema,
} from "../../provider/resources/dpu-underlay";
import { createSshConnector, type SshConnector, type SshSession, toSshTarget } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { skipLab } from "../sim-lab/helpers";
import { connectionOf } from "../underlay/lab-helpers";

export { linkSnapshot as snapshot, strayProcesses } from "../underlay/lab-helpers";

/** True when the lab cannot run here (throws under CI instead). */
export const SKIP_UNDERLAY_LAB = skipLab();

/** Checked inputs, the way the engine passes them after check(). */
export function checked(raw: Record<string, unknown>): DpuUnderlayInputs {
  return DpuUnderlayInputsSchema.parse(raw);
}

/**
 * A one-DPU lab with a provider, a raw session to the DPU and a snapshot of its network state. `shell`: the
 * DPU's /bin/sh (busybox: a minimal DPU OS without bash).
 */
export async function underlayLab(
  connector: SshConnector = createSshConnector(),
  shell?: "dash" | "busybox",
) {
  const lab: Lab = await startLab({ count: 1, bootTimeMs: 0, ...(shell ? { shell } : {}) });
  const connection = connectionOf(lab.endpoints.dpus[0]!);
  const target = toSshTarget(checked({ connection }).connection);
  const session = await connector.session(target);
  const sshClient = (await session.run(["sh", "-c", "echo $SSH_CONNECTION"])).stdout.split(" ")[0]!;
  return {
    lab,
    connection,
    target,
    connector,
    session,
    /** The SSH client address as the DPU sees it (the management peer). */
    sshClient,
    provider: createDpuUnderlayProvider({ connector }),
    /** A fresh session (after a rollback dropped the pooled one). */
    async fresh(): Promise<SshSession> {
      connector.invalidate(target);
      return connector.session(target);
    },
    async stop() {
      await connector.closeAll();
      await lab.stop();
    },
  };
}

/**
 * A connector whose sessions let `edit` rewrite the stdin of the underlay apply before it reaches the DPU: the
 * adversary on the wire, used to plant an undo step that iproute2 cannot run.
 */
export function tamperingConnector(inner: SshConnector, edit: (stdin: string) => string): SshConnector {
  const wrap = (s: SshSession): SshSession => ({
    label: s.label,
    get hostKeyFingerprint() {
      return s.hostKeyFingerprint;
    },
    exec: (argv, o) =>
      s.exec(
        argv,
        argv[3] === "pulumi-dpu-apply" && typeof o?.stdin === "string" ? { ...o, stdin: edit(o.stdin) } : o,
      ),
    run: (argv, o) => s.run(argv, o),
    writeFileAtomic: (p, d, m) => s.writeFileAtomic(p, d, m),
  });
  return {
    session: async (t) => wrap(await inner.session(t)),
    invalidate: (t) => inner.invalidate(t),
    closeAll: () => inner.closeAll(),
  };
}

/**
 * A connector whose sessions lose the connection around the underlay confirmation: `"after"` runs it on the
 * DPU then fails as if the answer was lost, `"before"` fails without sending it.
 */
export function confirmDroppingConnector(inner: SshConnector, when: "before" | "after"): SshConnector {
  const lost = () => new Error("connection lost while running underlay confirm (test)");
  const wrap = (s: SshSession): SshSession => ({
    label: s.label,
    get hostKeyFingerprint() {
      return s.hostKeyFingerprint;
    },
    exec: async (argv, o) => {
      if (argv[3] !== "pulumi-dpu-confirm") return s.exec(argv, o);
      if (when === "before") throw lost();
      await s.exec(argv, o);
      throw lost();
    },
    run: (argv, o) => s.run(argv, o),
    writeFileAtomic: (p, d, m) => s.writeFileAtomic(p, d, m),
  });
  return {
    session: async (t) => wrap(await inner.session(t)),
    invalidate: (t) => inner.invalidate(t),
    closeAll: () => inner.closeAll(),
  };
}
