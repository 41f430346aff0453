import type * as pulumi from "@pulumi/pulumi";

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * `T` with every level accepting a `pulumi.Input`: the shape of a generated SDK's `…Args` (an `Output` anywhere
 * in the tree is resolved by the runtime before the resource is registered).
 */
export type DeepInput<T> = T extends Primitive
  ? pulumi.Input<T>
  : T extends readonly (infer E)[]
    ? pulumi.Input<DeepInput<E>[]>
    : pulumi.Input<DeepInputObject<T>>;

/** An object type whose properties are {@link DeepInput}s (optionality preserved). */
export type DeepInputObject<T> = { [K in keyof T]: DeepInput<T[K]> };

/** The outputs of a resource: every property an `Output` of its value. */
export type OutputProps<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };
