import {
  type ConfigureReply,
  type DiffReply,
  ProviderCallError,
  type ProviderClient,
} from "./provider-client";
import {
  annotateSecrets,
  clone,
  containsUnknowns,
  type Json,
  markAdditionalSecrets,
  type PropertyMap,
  secret,
  stripSecrets,
  UNKNOWN,
} from "./wire";

/** What a program registers: one custom resource of the dynamic provider. */
export interface ResourceSpec {
  /** Type token, e.g. `pulumi-nodejs:dynamic/dpu:DpuHost`. */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** Inputs as the language SDK sends them: secrets wrapped, unknowns (preview only) as the sentinel. */
  readonly inputs: PropertyMap;
  /** The serialized provider (the `__provider` input). */
  readonly provider: string;
  /** `additionalSecretOutputs` resource option. */
  readonly additionalSecretOutputs?: readonly string[];
  /** `replaceOnChanges` resource option (top-level input names). */
  readonly replaceOnChanges?: readonly string[];
  /** `customTimeouts` resource option, in seconds. */
  readonly customTimeouts?: { readonly create?: number; readonly update?: number; readonly delete?: number };
}

/** One resource in the fake engine's state (a checkpoint entry). */
export interface StateEntry {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly id: string;
  /** Checked inputs, secrets marked. Holds `__provider`. */
  readonly inputs: PropertyMap;
  /** Outputs, secrets marked. Holds `__provider`. */
  readonly outputs: PropertyMap;
  readonly additionalSecretOutputs: readonly string[];
  /**
   * Init errors of a partial resource: Create or Update failed with `ErrorResourceInitFailed` (the provider threw
   * `{id, properties, reasons}`). The engine keeps the resource with the reported properties and, on the next
   * deployment, sends Update for it even when Diff finds no change. A successful Update or refresh clears them.
   */
  readonly initErrors?: readonly string[];
}

/** What happened (or, in preview, would happen) to one resource. */
export type StepOp = "create" | "same" | "update" | "replace" | "delete" | "refresh" | "read-gone";

/** The result of one step. */
export interface StepResult {
  readonly urn: string;
  readonly op: StepOp;
  /** The Diff reply when the resource already existed. */
  readonly diff?: DiffReply;
  /** The resulting outputs (in preview: the planned state, unknowns included). */
  readonly outputs: PropertyMap;
  readonly id?: string;
  /** The checked inputs sent to the provider (secrets marked); absent for deletes. */
  readonly inputs?: PropertyMap;
  /** The inputs recorded in state before this step (secrets marked), when the resource existed. */
  readonly oldInputs?: PropertyMap;
}

/** A Check that returned failures (the engine stops before any other call for that resource). */
export class CheckFailedError extends Error {
  override readonly name = "CheckFailedError";
  constructor(
    readonly urn: string,
    readonly failures: { property: string; reason: string }[],
  ) {
    super(`${urn}: check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
}

/** A recorded gRPC call, for assertions such as "no Create during preview". */
export interface CallRecord {
  readonly method: "Configure" | "Check" | "Diff" | "Create" | "Read" | "Update" | "Delete";
  readonly urn?: string;
  readonly preview: boolean;
  /** The exact properties sent (after the engine stripped secrets). */
  readonly sent?: PropertyMap;
}

/** Options of a deployment operation. */
export interface DeployOptions {
  /** `pulumi preview`: Check and Diff only; unknowns allowed; no Create/Update/Delete; state unchanged. */
  readonly preview?: boolean;
}

/**
 * A small, faithful model of the Pulumi engine's side of the provider protocol, for a provider that answers
 * `acceptSecrets=false` and `supportsPreview=false` (the dynamic-provider host):
 *
 * - secret envelopes are stripped from everything sent, and outputs are re-marked afterwards with
 *   `annotateSecrets(outs, ins)` plus `additionalSecretOutputs`;
 * - during preview, Check and Diff see unknowns and no Create, Update or Delete is ever sent;
 * - the state keeps `__provider` (in inputs and outputs), and Diff/Update/Delete/Read get the stored state;
 * - a Diff answering `unknown` is resolved by the engine's own comparison of old and new inputs;
 * - a Create or Update failing with `ErrorResourceInitFailed` (the provider threw `{id, properties, reasons}`)
 *   leaves a partial resource in state (the reported properties, `initErrors`); the next deployment sends Update
 *   for it even when Diff reports no change, and a successful Update or refresh clears the init errors.
 */
export class FakeEngine {
  private readonly state = new Map<string, StateEntry>();
  private readonly order: string[] = [];
  /** Every call made, in order. */
  readonly calls: CallRecord[] = [];
  private configured: ConfigureReply | undefined;

  constructor(
    readonly client: ProviderClient,
    readonly project: string,
    readonly stack: string,
  ) {}

  /** The URN the engine gives a top-level resource. */
  urn(type: string, name: string): string {
    return `urn:pulumi:${this.stack}::${this.project}::${type}::${name}`;
  }

  /** Sends `Configure` with the whole stack config; `secretKeys` are wrapped as secrets, as the engine does. */
  async configure(
    config: Record<string, string>,
    secretKeys: readonly string[] = [],
  ): Promise<ConfigureReply> {
    const args: PropertyMap = {};
    for (const [k, v] of Object.entries(config)) args[k] = secretKeys.includes(k) ? secret(v) : v;
    this.calls.push({ method: "Configure", preview: false });
    this.configured = await this.client.configure(args);
    return this.configured;
  }

  /** A snapshot of one state entry. */
  get(urn: string): StateEntry | undefined {
    const e = this.state.get(urn);
    return e ? (clone(e as unknown as Json) as unknown as StateEntry) : undefined;
  }

  /** The URNs in state, in creation order. */
  urns(): string[] {
    return [...this.order];
  }

  /** Calls recorded since `index` (use `engine.calls.length` as a mark). */
  callsSince(index: number): CallRecord[] {
    return this.calls.slice(index);
  }

  private requireConfigured(): void {
    if (!this.configured) throw new Error("FakeEngine: call configure() first, as the engine does");
  }

  private target(urn: string, type: string, name: string) {
    return { urn, type, name };
  }

  private send(method: CallRecord["method"], urn: string, preview: boolean, props: PropertyMap): PropertyMap {
    const sent = stripSecrets(props);
    if (!preview && containsUnknowns(sent)) {
      throw new Error(`FakeEngine: ${method} ${urn} would send unknown values outside preview`);
    }
    this.calls.push({ method, urn, preview, sent });
    return sent;
  }

  /** Check: strip secrets, call, re-annotate the checked inputs with the secrets of `news`. */
  private async check(spec: ResourceSpec, urn: string, preview: boolean): Promise<PropertyMap> {
    const news: PropertyMap = { ...spec.inputs, __provider: spec.provider };
    const old = this.state.get(urn);
    const olds = old ? old.inputs : {};
    const t = this.target(urn, spec.type, spec.name);
    const sentOlds = stripSecrets(olds);
    const sentNews = this.send("Check", urn, preview, news);
    const res = await this.client.check(t, sentOlds, sentNews);
    if (res.failures.length > 0) throw new CheckFailedError(urn, res.failures);
    return annotateSecrets(res.inputs, news);
  }

  private finishOutputs(outs: PropertyMap, inputs: PropertyMap, extra: readonly string[]): PropertyMap {
    return markAdditionalSecrets(annotateSecrets(outs, inputs), extra);
  }

  /**
   * Records a partial resource when `err` carries `ErrorResourceInitFailed` (as the engine does for a Create or
   * Update that failed after the resource existed), then rethrows `err`.
   */
  private recordInitFailure(
    err: unknown,
    spec: ResourceSpec,
    urn: string,
    inputs: PropertyMap,
    old: StateEntry | undefined,
  ): never {
    if (err instanceof ProviderCallError && err.initFailed) {
      const extra = spec.additionalSecretOutputs ?? [];
      this.put({
        urn,
        type: spec.type,
        name: spec.name,
        id: err.initFailed.id || old?.id || "",
        inputs,
        // Exactly what the provider reported: the host adds no `__provider` to a partial resource's properties.
        outputs: this.finishOutputs(err.initFailed.properties, inputs, extra),
        additionalSecretOutputs: extra,
        initErrors: err.initFailed.reasons.length > 0 ? err.initFailed.reasons : [err.details],
      });
    }
    throw err;
  }

  private async doCreate(spec: ResourceSpec, urn: string, inputs: PropertyMap): Promise<StateEntry> {
    const t = this.target(urn, spec.type, spec.name);
    const sent = this.send("Create", urn, false, inputs);
    const res = await this.client
      .create(t, sent, spec.customTimeouts?.create ?? 0)
      .catch((err: unknown) => this.recordInitFailure(err, spec, urn, inputs, undefined));
    const extra = spec.additionalSecretOutputs ?? [];
    const entry: StateEntry = {
      urn,
      type: spec.type,
      name: spec.name,
      id: res.id,
      inputs,
      outputs: this.finishOutputs(res.properties, inputs, extra),
      additionalSecretOutputs: extra,
    };
    this.put(entry);
    return entry;
  }

  private async doDelete(entry: StateEntry): Promise<void> {
    const t = this.target(entry.urn, entry.type, entry.name);
    const sent = this.send("Delete", entry.urn, false, entry.outputs);
    const timeout = 0;
    await this.client.delete(t, entry.id, sent, stripSecrets(entry.inputs), timeout);
    this.state.delete(entry.urn);
    this.order.splice(this.order.indexOf(entry.urn), 1);
  }

  private put(entry: StateEntry): void {
    if (!this.state.has(entry.urn)) this.order.push(entry.urn);
    this.state.set(entry.urn, entry);
  }

  /** The engine's own diff when the provider answers DIFF_UNKNOWN: changed top-level input keys. */
  private changedKeys(olds: PropertyMap, news: PropertyMap): string[] {
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    return [...keys].filter(
      (k) => JSON.stringify(stripSecrets(olds[k] ?? null)) !== JSON.stringify(stripSecrets(news[k] ?? null)),
    );
  }

  /**
   * Registers one resource (what `new DpuHost(...)` leads to in `pulumi up`): Check, then Create for a new
   * resource, or Diff then Update / replace / nothing for an existing one. In preview only Check and Diff run.
   */
  async register(spec: ResourceSpec, opts: DeployOptions = {}): Promise<StepResult> {
    this.requireConfigured();
    const preview = opts.preview ?? false;
    const urn = this.urn(spec.type, spec.name);
    const inputs = await this.check(spec, urn, preview);
    const old = this.state.get(urn);
    if (!old) {
      if (preview) return { urn, op: "create", outputs: inputs, inputs };
      const e = await this.doCreate(spec, urn, inputs);
      return { urn, op: "create", outputs: e.outputs, id: e.id, inputs };
    }
    const oldInputs = old.inputs;
    const t = this.target(urn, spec.type, spec.name);
    const sentNews = this.send("Diff", urn, preview, inputs);
    const diff = await this.client.diff(
      t,
      old.id,
      stripSecrets(old.outputs),
      sentNews,
      stripSecrets(old.inputs),
    );
    let changed: boolean;
    let replace: boolean;
    if (diff.changes === "unknown") {
      const keys = this.changedKeys(old.inputs, inputs);
      changed = keys.length > 0;
      replace = keys.some((k) => spec.replaceOnChanges?.includes(k));
    } else {
      changed = diff.changes === "some";
      replace = changed && diff.replaces.length > 0;
      if (changed && !replace && spec.replaceOnChanges?.length) {
        replace = this.changedKeys(old.inputs, inputs).some((k) => spec.replaceOnChanges?.includes(k));
      }
    }
    // A partial resource (init errors) gets an Update even without a change: the engine's way to let the
    // provider finish what the failed Create or Update started.
    const partial = (old.initErrors?.length ?? 0) > 0;
    if (!changed && !partial) {
      return { urn, op: "same", diff, outputs: old.outputs, id: old.id, inputs, oldInputs };
    }
    if (preview) {
      return {
        urn,
        op: replace ? "replace" : "update",
        diff,
        outputs: inputs,
        id: old.id,
        inputs,
        oldInputs,
      };
    }
    if (replace) {
      if (diff.deleteBeforeReplace) {
        await this.doDelete(old);
        const e = await this.doCreate(spec, urn, inputs);
        return { urn, op: "replace", diff, outputs: e.outputs, id: e.id, inputs, oldInputs };
      }
      // Create-before-delete: the replacement exists before the old one goes.
      const created = await this.createReplacement(spec, urn, inputs, old);
      return { urn, op: "replace", diff, outputs: created.outputs, id: created.id, inputs, oldInputs };
    }
    const sent = this.send("Update", urn, false, inputs);
    const outs = await this.client
      .update(
        t,
        old.id,
        stripSecrets(old.outputs),
        sent,
        stripSecrets(old.inputs),
        spec.customTimeouts?.update ?? 0,
      )
      .catch((err: unknown) => this.recordInitFailure(err, spec, urn, inputs, old));
    const extra = spec.additionalSecretOutputs ?? [];
    const { initErrors: _cleared, ...kept } = old;
    const entry: StateEntry = { ...kept, inputs, outputs: this.finishOutputs(outs, inputs, extra) };
    this.put(entry);
    return { urn, op: "update", diff, outputs: entry.outputs, id: entry.id, inputs, oldInputs };
  }

  private async createReplacement(
    spec: ResourceSpec,
    urn: string,
    inputs: PropertyMap,
    old: StateEntry,
  ): Promise<StateEntry> {
    const t = this.target(urn, spec.type, spec.name);
    const sent = this.send("Create", urn, false, inputs);
    const res = await this.client.create(t, sent, spec.customTimeouts?.create ?? 0);
    const oldTarget = this.target(old.urn, old.type, old.name);
    const sentOld = this.send("Delete", urn, false, old.outputs);
    await this.client.delete(oldTarget, old.id, sentOld, stripSecrets(old.inputs));
    const extra = spec.additionalSecretOutputs ?? [];
    const entry: StateEntry = {
      ...old,
      id: res.id,
      inputs,
      outputs: this.finishOutputs(res.properties, inputs, extra),
      additionalSecretOutputs: extra,
    };
    this.put(entry);
    return entry;
  }

  /**
   * `pulumi up` (or `preview`) of a whole program: registers `specs` in order, then deletes what is in state
   * but no longer declared, newest first.
   */
  async up(specs: readonly ResourceSpec[], opts: DeployOptions = {}): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const s of specs) results.push(await this.register(s, opts));
    const declared = new Set(specs.map((s) => this.urn(s.type, s.name)));
    results.push(...(await this.deleteUndeclared(declared, opts)));
    return results;
  }

  /**
   * The end of a deployment: deletes (in preview: plans the deletion of) every resource in state whose URN
   * the program did not register this time, newest first.
   */
  async deleteUndeclared(declared: ReadonlySet<string>, opts: DeployOptions = {}): Promise<StepResult[]> {
    this.requireConfigured();
    const results: StepResult[] = [];
    for (const urn of [...this.order].reverse()) {
      if (declared.has(urn)) continue;
      const e = this.state.get(urn);
      if (!e) continue;
      if (!opts.preview) await this.doDelete(e);
      results.push({ urn, op: "delete", outputs: e.outputs, id: e.id, oldInputs: e.inputs });
    }
    return results;
  }

  /** The whole state (a checkpoint), in creation order, as plain JSON. */
  snapshot(): StateEntry[] {
    return this.order.flatMap((urn) => {
      const e = this.get(urn);
      return e ? [e] : [];
    });
  }

  /**
   * Replaces the state with a checkpoint from {@link snapshot} (what the engine reads from its backend at the
   * start of every command).
   */
  load(entries: readonly StateEntry[]): void {
    this.state.clear();
    this.order.length = 0;
    for (const e of entries) this.put(clone(e as unknown as Json) as unknown as StateEntry);
  }

  /**
   * `pulumi refresh` of one resource: Read with the stored outputs and inputs; a blank id removes it from
   * state; returned inputs replace the stored ones (so the next diff shows drift).
   */
  async refresh(urn: string): Promise<StepResult> {
    this.requireConfigured();
    const e = this.state.get(urn);
    if (!e) throw new Error(`FakeEngine: ${urn} is not in state`);
    const t = this.target(urn, e.type, e.name);
    const sent = this.send("Read", urn, false, e.outputs);
    const res = await this.client.read(t, e.id, sent, stripSecrets(e.inputs));
    if (res.id === "") {
      this.state.delete(urn);
      this.order.splice(this.order.indexOf(urn), 1);
      return { urn, op: "read-gone", outputs: {} };
    }
    const inputs = res.inputs ? annotateSecrets(res.inputs, e.inputs) : e.inputs;
    const outputs = this.finishOutputs(res.properties, e.outputs, e.additionalSecretOutputs);
    // A successful Read clears init errors, as the engine's refresh step does.
    const { initErrors: _cleared, ...kept } = e;
    const entry: StateEntry = { ...kept, id: res.id, inputs, outputs };
    this.put(entry);
    return { urn, op: "refresh", outputs, id: res.id };
  }

  /** `pulumi destroy`: deletes everything, newest first; `onStep` sees each deletion as it completes. */
  async destroy(opts: { readonly onStep?: (step: StepResult) => void } = {}): Promise<StepResult[]> {
    this.requireConfigured();
    const results: StepResult[] = [];
    for (const urn of [...this.order].reverse()) {
      const e = this.state.get(urn);
      if (!e) continue;
      await this.doDelete(e);
      const step: StepResult = { urn, op: "delete", outputs: e.outputs, id: e.id, oldInputs: e.inputs };
      results.push(step);
      opts.onStep?.(step);
    }
    return results;
  }
}

/** The sentinel the engine sends for values unknown during preview. */
export { UNKNOWN };
