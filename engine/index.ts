/**
 * The engine stand-in: a faithful model of the Pulumi engine's side of the provider protocol, driving the REAL
 * `@pulumi/pulumi` dynamic-provider host over gRPC, plus a runner that executes a Pulumi program against it
 * under `pulumi.runtime.setMocks`. Used by the contract tests and by `pulumi-dpu demo` where no Pulumi CLI is
 * available.
 */
import * as pulumi from "@pulumi/pulumi";
import { FakeEngine } from "./fake-engine";
import { type HostProcess, spawnDynamicProviderHost } from "./host-process";
import { ProviderClient } from "./provider-client";

export * from "./fake-engine";
export * from "./host-mocks";
export * from "./host-process";
export * from "./plan";
export * from "./program-dir";
export * from "./program-runner";
export * from "./provider-client";
export * from "./wire";

/** Options of {@link startEngineHost}. */
export interface EngineHostOptions {
  /** Program directory (cwd of the host). */
  readonly programDir: string;
  /** Pulumi project name. */
  readonly project: string;
  /** Stack name (default `test`). */
  readonly stack?: string;
  /** Stack config with namespaced keys (`dpu:bmcPassword`, `<project>:x`), sent in Configure. */
  readonly config?: Record<string, string>;
  /** Config keys that are secrets (wrapped in Configure, as the engine does). */
  readonly secretKeys?: readonly string[];
  /** Streams what the plugin prints (provider progress), as the engine shows it during `pulumi up`. */
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

/** A running host with a fake engine attached. */
export interface EngineHost {
  readonly engine: FakeEngine;
  readonly client: ProviderClient;
  readonly host: HostProcess;
  /** The `GetPluginInfo` version. */
  readonly pluginVersion: string;
  /** What `Handshake` answered. */
  readonly handshake: "ok" | "unimplemented";
  /** Closes the channel and stops the process group. */
  close(): Promise<void>;
}

/**
 * Spawns the real `pulumi-resource-pulumi-nodejs` plugin like the engine does and runs the engine's start-up
 * sequence on it (Handshake, GetPluginInfo, Configure with the stack config).
 */
export async function startEngineHost(opts: EngineHostOptions): Promise<EngineHost> {
  const stack = opts.stack ?? "test";
  const config = opts.config ?? {};
  // The engine also exports the config to the plugin's environment; secret values are kept out of it here so
  // they never sit in /proc/<pid>/environ (the host reads config from Configure only).
  const plainConfig = Object.fromEntries(
    Object.entries(config).filter(([k]) => !opts.secretKeys?.includes(k)),
  );
  const host = await spawnDynamicProviderHost({
    programDir: opts.programDir,
    project: opts.project,
    stack,
    config: plainConfig,
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
  });
  const client = new ProviderClient(host.port);
  try {
    const handshake = await client.handshake();
    const pluginVersion = await client.getPluginInfo();
    const engine = new FakeEngine(client, opts.project, stack);
    await engine.configure(config, opts.secretKeys ?? []);
    return {
      engine,
      client,
      host,
      pluginVersion,
      handshake,
      async close() {
        client.close();
        await host.close();
      },
    };
  } catch (e) {
    client.close();
    await host.close();
    throw e;
  }
}

/** The serialized form of a dynamic provider, exactly as `pulumi.dynamic.Resource` produces `__provider`. */
export async function serializeProvider(
  provider: pulumi.dynamic.ResourceProvider,
): Promise<{ text: string; containsSecrets: boolean }> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text: sf.text, containsSecrets: sf.containsSecrets };
}
