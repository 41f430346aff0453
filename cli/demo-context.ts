/** What both demo paths (the Pulumi CLI and the engine-contract harness) share. */

/** The result of one phase (`pulumi up`, `preview --diff`, …), for the closing summary. */
export interface PhaseResult {
  /** `up`, `preview --diff`, `destroy`… */
  readonly phase: string;
  /** What it did: `9 created`, `3 to update, 6 unchanged`. */
  readonly result: string;
  readonly seconds: number;
}

/** Everything a demo path needs to run examples/fleet against the lab. */
export interface DemoContext {
  /** The program: a copy of this package's examples/fleet in {@link workDir}, its modules linked. */
  readonly exampleDir: string;
  /** Pulumi project name (from the example's Pulumi.yaml). */
  readonly project: string;
  /** Stack name. */
  readonly stack: string;
  /** Temporary directory of this run (backend, endpoints file); removed at the end. */
  readonly workDir: string;
  /** The lab's endpoints file. */
  readonly endpointsFile: string;
  /** Plain stack config, namespaced keys (`dpufleet:endpointsFile`, `dpu:bmcUsername`, `dpu:bmcCaCert`). */
  readonly config: Readonly<Record<string, string>>;
  /** Secret stack config, namespaced keys (`dpu:sshPrivateKey`). Never printed nor put on a command line. */
  readonly secretConfig: Readonly<Record<string, string>>;
  /** The change applied after the first `up` (namespaced keys): a new image and a new greeting. */
  readonly change: Readonly<Record<string, string>>;
  /** Rewrites a line of provider progress so it names the DPU it is about (`dpu-2`, not its BMC URL). */
  readonly nameDpus: (line: string) => string;
  /** Registers a clean-up run on Ctrl-C or error; returns a function that unregisters it. */
  onCleanup(fn: () => Promise<void>): () => void;
}
