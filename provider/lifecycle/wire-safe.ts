import type * as pulumi from "@pulumi/pulumi";

/**
 * A copy of `v` that the engine's wire format accepts: the dynamic-provider host sends outputs as a protobuf
 * `Struct`, whose `fromJavaScript` throws "Unexpected struct type." on `undefined` anywhere inside, which fails
 * the whole `pulumi refresh` of that resource. Keys holding `undefined` are dropped (as JSON would), `undefined`
 * in arrays becomes null. Other values are kept as they are.
 */
export function wireSafe<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : wireSafe(x))) as T;
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = wireSafe(x);
    return out as T;
  }
  return v;
}

/** Cleans the partial-resource `properties` a failed create or update carries to the engine. */
function wireSafeError(err: unknown): unknown {
  if (err !== null && typeof err === "object" && "properties" in err) {
    const e = err as { properties: unknown };
    e.properties = wireSafe(e.properties);
  }
  return err;
}

/**
 * Wraps a dynamic provider so that every result it hands the engine (create `outs`, read `props` and `inputs`,
 * update `outs`, a partial error's `properties`) survives the gRPC boundary. One place for every resource, so a
 * new optional output cannot break refresh again.
 */
export function engineSafe(p: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
  const guard = async <R>(fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn();
    } catch (err) {
      throw wireSafeError(err);
    }
  };
  const create = p.create.bind(p);
  const read = p.read?.bind(p);
  const update = p.update?.bind(p);
  return {
    ...(p.configure ? { configure: p.configure.bind(p) } : {}),
    ...(p.check ? { check: p.check.bind(p) } : {}),
    ...(p.diff ? { diff: p.diff.bind(p) } : {}),
    ...(p.delete ? { delete: p.delete.bind(p) } : {}),
    create: (inputs) =>
      guard(async () => {
        const r = await create(inputs);
        return { ...r, outs: wireSafe(r.outs) };
      }),
    ...(read
      ? {
          read: (id: string, props?: unknown) =>
            guard(async () => {
              const r = await read(id, props);
              return {
                ...r,
                ...(r.props !== undefined ? { props: wireSafe(r.props) } : {}),
                ...(r.inputs !== undefined ? { inputs: wireSafe(r.inputs) } : {}),
              };
            }),
        }
      : {}),
    ...(update
      ? {
          update: (id: string, olds: unknown, news: unknown) =>
            guard(async () => {
              const r = await update(id, olds, news);
              return r.outs !== undefined ? { ...r, outs: wireSafe(r.outs) } : r;
            }),
        }
      : {}),
  };
}
