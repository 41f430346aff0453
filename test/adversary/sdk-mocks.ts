import * as pulumi from "@pulumi/pulumi";
import { isSecret } from "../../engine/wire";

/**
 * Runs the SDK classes under Pulumi mocks and records, by resource name, the inputs of every resource a program
 * registers, as the engine receives them (secrets as envelopes). The map fills as resources register.
 */
export async function mockRegistrations(
  project = "proj",
  stack = "dev",
): Promise<Map<string, Record<string, unknown>>> {
  const seen = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.set(args.name, args.inputs as Record<string, unknown>);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    project,
    stack,
  );
  return seen;
}

/** Resolves once every resource is registered (its URN known). */
export async function registered(resources: readonly pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
}

/** True when a secret envelope sits anywhere on the way to `path` (the engine may lift it to a container). */
export function secretOnPath(v: unknown, path: readonly (string | number)[]): boolean {
  if (isSecret(v)) return true;
  if (path.length === 0 || v === null || typeof v !== "object") return false;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  return secretOnPath((v as Record<string | number, unknown>)[head], rest);
}
