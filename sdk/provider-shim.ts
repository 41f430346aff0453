import type * as pulumi from "@pulumi/pulumi";

/** The module the serialized shim loads at run time, resolved from the Pulumi program's directory. */
export const PROVIDER_MODULE = "pulumi-dpu/provider";

/**
 * Builds the provider object that `pulumi.dynamic.Resource` serializes into `__provider`.
 *
 * Every method requires {@link PROVIDER_MODULE} (or `moduleId`) when it is called and delegates to the named
 * export. The closure serializer never captures the `require` identifier, so the serialized text holds only two
 * strings, seven tiny methods and the one delegate they share: no client, no library code, no secret, nothing that changes between
 * releases. Two consequences:
 *
 * - `__provider` is the same text across `pulumi-dpu` versions, so upgrading the package does not show
 *   `~ __provider` on every resource, and fixes in the provider reach existing resources at the next operation
 *   (pulumi/pulumi#12401, #16826);
 * - the program's directory must resolve `pulumi-dpu` (a normal `npm install` does; pnpm's isolated layout may
 *   not, see pulumi/docs#17035).
 *
 * Use one shim per resource type, created once at module scope: the SDK serializes each object once.
 *
 * @param exportName - the export of the provider module holding the real `ResourceProvider` (`dpuHost`, …).
 * @param moduleId - the module to load (tests point it at a fixture).
 */
export function providerShim(
  exportName: string,
  moduleId: string = PROVIDER_MODULE,
): pulumi.dynamic.ResourceProvider {
  // `require` is resolved by the dynamic-provider host from the program directory, when a method runs.
  const call = async <T>(method: string, args: unknown[], fallback?: T): Promise<T> => {
    const provider = require(moduleId)?.[exportName];
    if (typeof provider?.create !== "function") {
      throw new Error(
        `${moduleId} has no provider "${exportName}": install and build pulumi-dpu in the program directory`,
      );
    }
    const fn = provider[method];
    return (typeof fn === "function" ? fn.apply(provider, args) : fallback) as T;
  };
  type P = pulumi.dynamic.ResourceProvider;
  type R<K extends keyof P> = Awaited<ReturnType<NonNullable<P[K]>>>;
  return {
    configure: (req) => call<R<"configure">>("configure", [req]),
    check: (olds, news) => call<R<"check">>("check", [olds, news], { inputs: news }),
    diff: (id, olds, news) => call<R<"diff">>("diff", [id, olds, news], {}),
    create: (inputs) => call<R<"create">>("create", [inputs]),
    read: (id, props) => call<R<"read">>("read", [id, props], { id, props }),
    update: (id, olds, news) => call<R<"update">>("update", [id, olds, news], {}),
    delete: (id, props) => call<R<"delete">>("delete", [id, props]),
  };
}
