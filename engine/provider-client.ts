import { createRequire } from "node:module";
import type * as Grpc from "@grpc/grpc-js";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import type * as EmptyPb from "google-protobuf/google/protobuf/empty_pb";
import type * as StructPb from "google-protobuf/google/protobuf/struct_pb";
import type { PropertyMap } from "./wire";

/**
 * `@grpc/grpc-js` and `google-protobuf` are loaded through `@pulumi/pulumi`'s own resolution: its generated
 * proto clients (`ResourceProviderClient`, the messages) use those instances, and a second grpc-js (or
 * protobuf runtime) would not interoperate with them. They are not dependencies of this package; only their
 * types are used at compile time.
 */
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = pulumiRequire("@grpc/grpc-js") as typeof Grpc;
const { Empty } = pulumiRequire("google-protobuf/google/protobuf/empty_pb") as typeof EmptyPb;
const { Struct } = pulumiRequire("google-protobuf/google/protobuf/struct_pb") as typeof StructPb;
type Struct = StructPb.Struct;
type Empty = EmptyPb.Empty;

/** A Check response. */
export interface CheckReply {
  readonly inputs: PropertyMap;
  readonly failures: { property: string; reason: string }[];
}

/** A Diff response. */
export interface DiffReply {
  /** `none`, `some` or `unknown` (the engine then diffs old and new inputs itself). */
  readonly changes: "none" | "some" | "unknown";
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
  readonly hasDetailedDiff: boolean;
}

/** A Configure response. */
export interface ConfigureReply {
  readonly acceptSecrets: boolean;
  readonly supportsPreview: boolean;
  readonly acceptResources: boolean;
}

/** A Read response (`id === ""` means the resource is gone). */
export interface ReadReply {
  readonly id: string;
  readonly properties: PropertyMap;
  readonly inputs: PropertyMap | undefined;
}

/**
 * A failed Create/Update. When the provider threw `{id, properties, reasons}` the host packs an
 * `ErrorResourceInitFailed` and the engine records a partial resource: `initFailed` carries it.
 */
export class ProviderCallError extends Error {
  override readonly name = "ProviderCallError";
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailed?: { id: string; properties: PropertyMap; reasons: string[] },
  ) {
    super(`${method} failed (${grpc.status[code] ?? code}): ${details}`);
  }
}

/** Identity of a resource in every CRUD call. */
export interface CallTarget {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

function toStruct(map: PropertyMap): Struct {
  return Struct.fromJavaScript(map as Parameters<typeof Struct.fromJavaScript>[0]);
}

function fromStruct(s: Struct | undefined): PropertyMap {
  return (s?.toJavaScript() ?? {}) as PropertyMap;
}

function initFailure(err: Grpc.ServiceError): ProviderCallError["initFailed"] {
  const bin = err.metadata?.get("grpc-status-details-bin")[0];
  if (!bin || typeof bin === "string") return undefined;
  const status = Status.deserializeBinary(new Uint8Array(bin));
  for (const any of status.getDetailsList()) {
    if (!any.getTypeUrl().endsWith("pulumirpc.ErrorResourceInitFailed")) continue;
    const d = pb.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
    return { id: d.getId(), properties: fromStruct(d.getProperties()), reasons: d.getReasonsList() };
  }
  return undefined;
}

/** A promise-based client of the `pulumirpc.ResourceProvider` service, speaking plain property maps. */
export class ProviderClient {
  private readonly client: ResourceProviderClient;

  constructor(port: number) {
    this.client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  private call<Res>(
    method: string,
    invoke: (cb: (err: Grpc.ServiceError | null, res: Res) => void) => unknown,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke((err, res) => {
        if (err) reject(new ProviderCallError(method, err.code, err.details, initFailure(err)));
        else resolve(res);
      });
    });
  }

  /** `Handshake` (the dynamic host answers UNIMPLEMENTED; the engine falls back to Configure). */
  async handshake(): Promise<"ok" | "unimplemented"> {
    try {
      await this.call<pb.ProviderHandshakeResponse>("Handshake", (cb) =>
        this.client.handshake(new pb.ProviderHandshakeRequest(), cb),
      );
      return "ok";
    } catch (e) {
      if (e instanceof ProviderCallError && e.code === grpc.status.UNIMPLEMENTED) return "unimplemented";
      throw e;
    }
  }

  /** `GetPluginInfo`: the plugin version. */
  async getPluginInfo(): Promise<string> {
    const res = await this.call<PluginInfo>("GetPluginInfo", (cb) =>
      this.client.getPluginInfo(new Empty(), cb),
    );
    return res.getVersion();
  }

  /** `Configure` with the (secret-wrapped) stack config, as the engine sends it. */
  async configure(args: PropertyMap): Promise<ConfigureReply> {
    const req = new pb.ConfigureRequest()
      .setArgs(toStruct(args))
      .setAcceptsecrets(true)
      .setAcceptresources(true)
      .setSendsOldInputs(true)
      .setSendsOldInputsToDelete(true);
    const res = await this.call<pb.ConfigureResponse>("Configure", (cb) => this.client.configure(req, cb));
    return {
      acceptSecrets: res.getAcceptsecrets(),
      supportsPreview: res.getSupportspreview(),
      acceptResources: res.getAcceptresources(),
    };
  }

  /** `Check(olds, news)`. */
  async check(t: CallTarget, olds: PropertyMap, news: PropertyMap): Promise<CheckReply> {
    const req = new pb.CheckRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setOlds(toStruct(olds))
      .setNews(toStruct(news));
    const res = await this.call<pb.CheckResponse>("Check", (cb) => this.client.check(req, cb));
    return {
      inputs: fromStruct(res.getInputs()),
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  /** `Diff(id, olds = state outputs, news = checked inputs, oldInputs)`. */
  async diff(
    t: CallTarget,
    id: string,
    olds: PropertyMap,
    news: PropertyMap,
    oldInputs: PropertyMap,
  ): Promise<DiffReply> {
    const req = new pb.DiffRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setId(id)
      .setOlds(toStruct(olds))
      .setNews(toStruct(news))
      .setOldInputs(toStruct(oldInputs));
    const res = await this.call<pb.DiffResponse>("Diff", (cb) => this.client.diff(req, cb));
    const C = pb.DiffResponse.DiffChanges;
    const c = res.getChanges();
    return {
      changes: c === C.DIFF_NONE ? "none" : c === C.DIFF_SOME ? "some" : "unknown",
      replaces: res.getReplacesList(),
      deleteBeforeReplace: res.getDeletebeforereplace(),
      hasDetailedDiff: res.getHasdetaileddiff(),
    };
  }

  /** `Create(properties)` (never sent during preview by this harness, as the host does not support preview). */
  async create(
    t: CallTarget,
    properties: PropertyMap,
    timeoutSec = 0,
  ): Promise<{ id: string; properties: PropertyMap }> {
    const req = new pb.CreateRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setProperties(toStruct(properties))
      .setTimeout(timeoutSec)
      .setPreview(false);
    const res = await this.call<pb.CreateResponse>("Create", (cb) => this.client.create(req, cb));
    return { id: res.getId(), properties: fromStruct(res.getProperties()) };
  }

  /** `Read(id, properties = state outputs, inputs = state inputs)` (refresh). */
  async read(t: CallTarget, id: string, properties: PropertyMap, inputs: PropertyMap): Promise<ReadReply> {
    const req = new pb.ReadRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setId(id)
      .setProperties(toStruct(properties))
      .setInputs(toStruct(inputs));
    const res = await this.call<pb.ReadResponse>("Read", (cb) => this.client.read(req, cb));
    const ins = res.getInputs();
    return {
      id: res.getId(),
      properties: fromStruct(res.getProperties()),
      inputs: ins ? fromStruct(ins) : undefined,
    };
  }

  /** `Update(id, olds = state outputs, news = checked inputs, oldInputs)`. */
  async update(
    t: CallTarget,
    id: string,
    olds: PropertyMap,
    news: PropertyMap,
    oldInputs: PropertyMap,
    timeoutSec = 0,
  ): Promise<PropertyMap> {
    const req = new pb.UpdateRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setId(id)
      .setOlds(toStruct(olds))
      .setNews(toStruct(news))
      .setOldInputs(toStruct(oldInputs))
      .setTimeout(timeoutSec)
      .setPreview(false);
    const res = await this.call<pb.UpdateResponse>("Update", (cb) => this.client.update(req, cb));
    return fromStruct(res.getProperties());
  }

  /** `Delete(id, properties = state outputs, oldInputs)`. */
  async delete(
    t: CallTarget,
    id: string,
    properties: PropertyMap,
    oldInputs: PropertyMap,
    timeoutSec = 0,
  ): Promise<void> {
    const req = new pb.DeleteRequest()
      .setUrn(t.urn)
      .setType(t.type)
      .setName(t.name)
      .setId(id)
      .setProperties(toStruct(properties))
      .setOldInputs(toStruct(oldInputs))
      .setTimeout(timeoutSec);
    await this.call<Empty>("Delete", (cb) => this.client.delete(req, cb));
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}
