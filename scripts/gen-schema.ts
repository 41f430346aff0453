/**
 * Generates `schema.json`, the Pulumi package schema of pulumi-dpu, from the providers' zod input schemas.
 *
 * - Resources `dpu:index:DpuHost|DpuUnderlay|DpuWorkload`: `inputProperties` from `z.toJSONSchema(schema,
 *   {io: "input"})`, `properties` from the output view plus the observed fields (`*ObservedSchema`); nested objects and enums
 *   become named types (`dpu:index:<Resource><Path>`, the SSH connection shared as `dpu:index:SshConnection`);
 *   `secret` and `replaceOnChanges` from the fields' `.meta()` (via `secretPaths` and the field rules).
 * - Components `dpu:index:DpuNode` and `dpu:index:DpuFleet` (`isComponent`).
 * - Stack config variables (`dpu:bmcPassword`, …).
 *
 * Regenerate with `npm run generate` (scripts/generate.ts, compiled by tsconfig.tools.json); the schema test fails
 * whenever `schema.json` differs from what this module generates.
 */
import { z } from "zod";
import { secretPaths } from "../provider/lifecycle/field-meta";
import { RESOURCE_SOURCES, type ResourceSource } from "./gen-resources";

/** A JSON Schema node as zod emits it (the subset the generators read). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: (string | number | boolean | null)[];
  const?: string | number | boolean | null;
  default?: unknown;
  description?: string;
}

/** A Pulumi schema property or type reference. */
export interface PropertySpec {
  type?: string;
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  oneOf?: PropertySpec[];
  description?: string;
  default?: string | number | boolean;
  secret?: boolean;
  replaceOnChanges?: boolean;
}

/** A Pulumi schema object or enum type. */
export interface ComplexTypeSpec {
  type: "object" | "string";
  description?: string;
  properties?: Record<string, PropertySpec>;
  required?: string[];
  enum?: { value: string | number | boolean; name?: string }[];
}

/** A Pulumi schema resource or component. */
export interface ResourceSpec {
  description?: string;
  isComponent?: boolean;
  properties: Record<string, PropertySpec>;
  required: string[];
  inputProperties: Record<string, PropertySpec>;
  requiredInputs: string[];
}

/** The generated package schema. */
export interface PackageSchema {
  name: string;
  displayName: string;
  version: string;
  description: string;
  keywords: string[];
  license: string;
  repository?: string;
  config: { variables: Record<string, PropertySpec> };
  types: Record<string, ComplexTypeSpec>;
  resources: Record<string, ResourceSpec>;
  language: { nodejs: { packageName: string } };
}

const PKG = "dpu";
const tok = (name: string) => `${PKG}:index:${name}`;
/** `jumpHosts` → `JumpHosts`: a property name as part of a type name. */
export const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const singular = (s: string) =>
  s.endsWith("ies") ? `${s.slice(0, -3)}y` : s.endsWith("s") ? s.slice(0, -1) : s;

/** Names for shared nested shapes (by property path), so one definition serves every resource. */
export const SHARED_NAMES: Readonly<Record<string, string>> = {
  connection: "SshConnection",
  "connection.jumpHosts": "SshJumpHost",
};

interface Ctx {
  readonly types: Record<string, ComplexTypeSpec>;
  readonly secret: ReadonlySet<string>;
  readonly replace: ReadonlySet<string>;
  /** Whether field markers (secret/replace) apply: only on the input view. */
  readonly mark: boolean;
}

function addType(ctx: Ctx, names: string[], spec: ComplexTypeSpec): string {
  const text = JSON.stringify(spec);
  for (const [t, existing] of Object.entries(ctx.types)) if (JSON.stringify(existing) === text) return t;
  for (const n of names) {
    const t = tok(n);
    if (!ctx.types[t]) {
      ctx.types[t] = spec;
      return t;
    }
  }
  throw new Error(`gen-schema: no free type name among ${names.join(", ")}`);
}

function primitiveDefault(v: unknown): string | number | boolean | undefined {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : undefined;
}

function mapNode(ctx: Ctx, js: JsonSchema, name: string, path: string): PropertySpec {
  const union = (js.anyOf ?? js.oneOf)?.filter((m) => m.type !== "null");
  let spec: PropertySpec;
  if (union && union.length === 1) {
    spec = mapNode(ctx, { ...(union[0] as JsonSchema), description: js.description }, name, path);
  } else if (union && union.length > 1) {
    spec = {
      oneOf: union.map((m, i) => {
        // A discriminated member (`kind: "builtin"`) is named by its discriminator value, else by its first key.
        const tag = Object.values(m.properties ?? {}).find((p) => typeof p.const === "string")?.const;
        const key = m.properties ? Object.keys(m.properties)[0] : undefined;
        const suffix = typeof tag === "string" ? tag : key;
        return mapNode(ctx, m, suffix ? `${name}${pascal(suffix)}` : `${name}${i}`, path);
      }),
    };
  } else if (js.enum?.every((v) => typeof v === "string")) {
    const values = js.enum as string[];
    spec = {
      $ref: `#/types/${addType(ctx, [name], { type: "string", enum: values.map((value) => ({ value })) })}`,
    };
  } else if (js.const !== undefined) {
    spec = {
      type: typeof js.const === "number" ? "number" : typeof js.const === "boolean" ? "boolean" : "string",
    };
  } else if (js.type === "object" && js.properties) {
    const properties: Record<string, PropertySpec> = {};
    for (const [k, v] of Object.entries(js.properties)) {
      properties[k] = mapProperty(ctx, v, `${name}${pascal(k)}`, path ? `${path}.${k}` : k);
    }
    const t: ComplexTypeSpec = { type: "object", properties };
    if (js.description) t.description = js.description;
    if (js.required?.length) t.required = [...js.required];
    const shared = SHARED_NAMES[path];
    spec = { $ref: `#/types/${addType(ctx, shared ? [shared, name] : [name], t)}` };
  } else if (js.type === "object") {
    const ap = typeof js.additionalProperties === "object" ? js.additionalProperties : undefined;
    spec = { type: "object", additionalProperties: ap ? mapNode(ctx, ap, name, path) : { type: "string" } };
  } else if (js.type === "array" && js.items) {
    spec = { type: "array", items: mapNode(ctx, js.items, singular(name), path) };
  } else if (js.type === "string" || js.type === "number" || js.type === "integer" || js.type === "boolean") {
    spec = { type: js.type };
  } else {
    spec = { $ref: "pulumi.json#/Any" };
  }
  return spec;
}

function mapProperty(ctx: Ctx, js: JsonSchema, name: string, path: string): PropertySpec {
  const spec = mapNode(ctx, js, name, path);
  if (js.description) spec.description = js.description;
  const d = primitiveDefault(js.default);
  if (
    d !== undefined &&
    (spec.type === "string" ||
      spec.type === "number" ||
      spec.type === "integer" ||
      spec.type === "boolean" ||
      spec.$ref?.startsWith("#/types/"))
  ) {
    spec.default = d;
  }
  if (ctx.mark && ctx.secret.has(path)) spec.secret = true;
  if (ctx.mark && ctx.replace.has(path)) spec.replaceOnChanges = true;
  return spec;
}

function objectView(
  ctx: Ctx,
  js: JsonSchema,
  name: string,
): { props: Record<string, PropertySpec>; required: string[] } {
  const props: Record<string, PropertySpec> = {};
  for (const [k, v] of Object.entries(js.properties ?? {}))
    props[k] = mapProperty(ctx, v, `${name}${pascal(k)}`, k);
  return { props, required: [...(js.required ?? [])] };
}

function resourceSpec(types: Record<string, ComplexTypeSpec>, r: ResourceSource): ResourceSpec {
  const base = { types, secret: new Set(secretPaths(r.inputs)), replace: new Set(r.rules.replaceOnChanges) };
  const input = z.toJSONSchema(r.inputs, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const output = z.toJSONSchema(r.inputs, { io: "output", unrepresentable: "any" }) as JsonSchema;
  const ins = objectView({ ...base, mark: true }, input, r.name);
  // Outputs share the input types (as Pulumi schemas do); only which top-level keys are always set differs.
  const observedJs = z.toJSONSchema(r.observed, { io: "output", unrepresentable: "any" }) as JsonSchema;
  const observed = objectView(
    { types, secret: new Set(secretPaths(r.observed)), replace: new Set(), mark: true },
    observedJs,
    r.name,
  );
  const properties = { ...ins.props, ...observed.props };
  const required = [...(output.required ?? []), ...observed.required];
  return {
    description: r.description,
    properties,
    required: required.sort(),
    inputProperties: ins.props,
    requiredInputs: ins.required.sort(),
  };
}

/** Builds the package schema. Deterministic: the same sources always give the same JSON. */
export function generateSchema(version = "0.1.0"): PackageSchema {
  const types: Record<string, ComplexTypeSpec> = {};
  const resources: Record<string, ResourceSpec> = {};
  for (const r of RESOURCE_SOURCES) {
    const spec = resourceSpec(types, r);
    resources[tok(r.name)] = spec;
    types[tok(`${r.name}Args`)] = {
      type: "object",
      description: `Arguments of a ${r.name} (used by DpuNode).`,
      properties: spec.inputProperties,
      required: spec.requiredInputs,
    };
  }
  types[tok("RolloutPolicy")] = {
    type: "object",
    description: "How a DpuFleet rolls out.",
    properties: {
      canary: {
        type: "integer",
        default: 1,
        description: "Nodes in the first wave, alone (default 1; 0 for none).",
      },
      batchSize: { type: "integer", default: 5, description: "Nodes per later wave (default 5)." },
      failureBudget: {
        type: "integer",
        default: 0,
        description:
          "Failed nodes tolerated over earlier waves before later waves are held back (default 0). Counting failures needs `pulumi up --continue-on-error`.",
      },
    },
  };
  const hostStage = resources[tok("DpuHost")]?.inputProperties.stage;
  if (hostStage === undefined || types[tok("DpuHostIdentityHostKey")] === undefined) {
    throw new Error("gen-schema: DpuHost has no `stage` input or no `identity.hostKey` enum");
  }
  // sdk/fleet-identity.ts `DpuFleetIdentity` (a TypeScript interface; descriptions follow its TSDoc). The stage and
  // host-key types are DpuHost's own, so they stay derived from the provider's zod schema.
  types[tok("DpuFleetIdentity")] = {
    type: "object",
    description:
      "What a fleet declares once for every DPU's Day-0 identity (the image is shared, each row brings the rest): the operator's keys, the management interface, the image stage, and how to read a row's own identity. Each row's own part (`hostname`, `managementAddress`, `gateway`, `authorizedKeys`, `managementInterface`) is read from its inventory fields; `row` (a function mapping a row to them) and a `stage` function of the row are TypeScript only.",
    properties: {
      authorizedKeys: {
        type: "array",
        items: { type: "string" },
        description:
          "Operator public keys (OpenSSH lines) authorized on every DPU, before each row's own keys.",
      },
      managementInterface: {
        type: "string",
        description:
          "Management interface name as the DPU OS sees it, e.g. `oob_net0` (BlueField) or `eth0`.",
      },
      gateway: { type: "string", description: "Default gateway of the rows' static management addresses." },
      nameservers: { type: "array", items: { type: "string" }, description: "DNS servers of every DPU." },
      hostKey: {
        $ref: `#/types/${tok("DpuHostIdentityHostKey")}`,
        description:
          "`generate` (default): the provider generates each DPU's SSH host key, seeds it, and the node's connections are pinned to it before first contact. `image`: the image makes its own key, trusted on first use.",
      },
      stage: {
        ...hostStage,
        description:
          "Image stage the BMCs fetch the per-DPU seeds from (a node template's own `host.stage` wins). One `builtin` stage serves the whole fleet: installs running at the same time share the provider's server on its port, each adding its own objects and removing them when it ends.",
      },
    },
    required: ["authorizedKeys", "managementInterface", "stage"],
  };
  resources[tok("DpuNode")] = {
    isComponent: true,
    description:
      "One DPU end to end: DpuHost → DpuUnderlay → DpuWorkloads, each step depending on the previous one.",
    inputProperties: {
      host: {
        $ref: `#/types/${tok("DpuHostArgs")}`,
        description:
          "The DPU's image and BMC, and its Day-0 `identity`. With a static management address in `identity`, `ready.ssh.host` and every step's `connection.host` may be left out: they default to that address.",
      },
      underlay: { $ref: `#/types/${tok("DpuUnderlayArgs")}`, description: "Its underlay networking." },
      workloads: {
        type: "array",
        items: { $ref: `#/types/${tok("DpuWorkloadArgs")}` },
        description: "Its workloads.",
      },
    },
    requiredInputs: ["host"],
    properties: {
      host: { $ref: `#/resources/${tok("DpuHost")}`, description: "The host." },
      underlay: { $ref: `#/resources/${tok("DpuUnderlay")}`, description: "The underlay, when declared." },
      workloads: {
        type: "array",
        items: { $ref: `#/resources/${tok("DpuWorkload")}` },
        description: "The workloads.",
      },
      ready: { type: "string", description: "The node name, once every step succeeded." },
    },
    required: ["host", "ready", "workloads"],
  };
  resources[tok("DpuFleet")] = {
    isComponent: true,
    description:
      "A fleet of DPUs rolled out in waves (canary, batches, failure budget) expressed as engine dependencies between waves. The per-node template is a TypeScript function (`node`), so the component is usable from TypeScript only.",
    inputProperties: {
      inventory: {
        oneOf: [
          { type: "array", items: { type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } } },
          { type: "string" },
        ],
        description:
          "The DPUs (objects with a unique `name`), or the path of a .yaml/.yml, .csv or .json inventory file.",
      },
      identity: {
        $ref: `#/types/${tok("DpuFleetIdentity")}`,
        description:
          "Day-0 identities: the fleet-wide part (operator keys, management interface, stage) declared once, each row giving its own host name and management address, so one generic image comes up as N distinct DPUs, each node's connections using the seeded address and pinned to the seeded host key. A node template that sets `host.identity` itself keeps it.",
      },
      rollout: {
        $ref: `#/types/${tok("RolloutPolicy")}`,
        description: "Waves: canary count, batch size, failure budget.",
      },
    },
    requiredInputs: ["inventory"],
    properties: {
      nodes: {
        type: "array",
        items: { $ref: `#/resources/${tok("DpuNode")}` },
        description: "The nodes, in inventory order.",
      },
      waves: {
        type: "array",
        items: { type: "array", items: { type: "string" } },
        description: "Node names per wave, in rollout order.",
      },
      failed: {
        type: "array",
        items: { type: "string" },
        description: "Nodes that failed (with --continue-on-error).",
      },
    },
    required: ["failed", "nodes", "waves"],
  };
  const sortedTypes = Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: PKG,
    displayName: "DPU",
    version,
    description:
      "Declare fleets of DPUs in Pulumi: Redfish provisioning (DpuHost), SSH underlay networking (DpuUnderlay) and workloads (DpuWorkload), with DpuNode and DpuFleet components. Generated from the providers' zod schemas by scripts/gen-schema.ts; do not edit.",
    keywords: ["pulumi", "dpu", "redfish", "bluefield", "ipu", "category/infrastructure"],
    license: "Apache-2.0",
    config: {
      variables: {
        bmcUsername: { type: "string", description: "Default BMC user name of every DpuHost." },
        bmcPassword: { type: "string", secret: true, description: "Default BMC password of every DpuHost." },
        bmcCaCert: { type: "string", description: "Default PEM CA certificate of the BMCs." },
        sshUsername: {
          type: "string",
          description: "Default SSH user of DpuUnderlay/DpuWorkload connections.",
        },
        sshPrivateKey: { type: "string", secret: true, description: "Default SSH private key." },
        sshPassword: { type: "string", secret: true, description: "Default SSH password." },
      },
    },
    types: sortedTypes,
    resources,
    language: { nodejs: { packageName: "pulumi-dpu" } },
  };
}

/** The text written to schema.json. */
export function schemaText(): string {
  return `${JSON.stringify(generateSchema(), null, 2)}\n`;
}
