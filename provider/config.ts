import { registerSecret } from "./log";

/**
 * Stack-wide defaults read from Pulumi config (`dpu:` keys) in the provider's `configure()`, so a fleet stack
 * does not repeat credentials on every resource:
 *
 * | key | used for |
 * | --- | --- |
 * | `dpu:bmcUsername`, `dpu:bmcPassword` (secret) | DpuHost `bmc.username` / `bmc.password` when unset |
 * | `dpu:bmcCaCert` | DpuHost `bmc.caCert` when unset |
 * | `dpu:sshUsername`, `dpu:sshPrivateKey` (secret), `dpu:sshPassword` (secret) | `connection` / `ready.ssh` fields when unset |
 *
 * Defaulted secrets are resolved in memory at each operation and never copied into a resource's inputs, so they
 * never land in state unmarked. Set them with `pulumi config set --secret dpu:bmcPassword …`.
 */
export interface StackDefaults {
  readonly bmcUsername?: string;
  readonly bmcPassword?: string;
  readonly bmcCaCert?: string;
  readonly sshUsername?: string;
  readonly sshPrivateKey?: string;
  readonly sshPassword?: string;
}

/** The Pulumi dynamic-provider config accessor (`ConfigureRequest.config`). */
export interface ConfigSource {
  get(key: string): string | undefined;
}

const KEYS: Record<keyof StackDefaults, { key: string; secret: boolean }> = {
  bmcUsername: { key: "dpu:bmcUsername", secret: false },
  bmcPassword: { key: "dpu:bmcPassword", secret: true },
  bmcCaCert: { key: "dpu:bmcCaCert", secret: false },
  sshUsername: { key: "dpu:sshUsername", secret: false },
  sshPrivateKey: { key: "dpu:sshPrivateKey", secret: true },
  sshPassword: { key: "dpu:sshPassword", secret: true },
};

let current: StackDefaults = {};

/** Reads the `dpu:` keys from the stack config (called by every resource provider's `configure`). */
export function configureFromPulumi(config: ConfigSource): void {
  const next: Record<string, string> = {};
  for (const [field, { key, secret }] of Object.entries(KEYS)) {
    const value = config.get(key);
    if (typeof value === "string" && value !== "") {
      next[field] = value;
      if (secret) registerSecret(value);
    }
  }
  current = next;
}

/** The stack-wide defaults in force. */
export function stackDefaults(): StackDefaults {
  return current;
}

/** Replaces the defaults (tests and in-process use). Secret values are registered for redaction. */
export function setStackDefaults(defaults: StackDefaults): void {
  for (const [field, { secret }] of Object.entries(KEYS)) {
    const v = defaults[field as keyof StackDefaults];
    if (secret && v) registerSecret(v);
  }
  current = { ...defaults };
}
