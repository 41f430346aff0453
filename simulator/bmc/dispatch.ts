import type { IncomingMessage, ServerResponse } from "node:http";
import type { SessionStore } from "./auth";
import { errorBody, httpError, message, RedfishHttpError } from "./errors";
import { etagOf, ifMatchSatisfied } from "./etag";
import { allowedMethods, type Reply, type Router } from "./router";
import type { BmcState } from "./state";

const MAX_BODY = 1024 * 1024;

/** Normalises a request path: no query, no trailing slash, `/redfish/v1/` → `/redfish/v1`. */
export function normalisePath(url: string): string {
  const path = decodeURIComponent(new URL(url, "https://bmc").pathname).replace(/\/+$/, "");
  return path === "" ? "/" : path;
}

async function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) throw httpError(413, "GeneralError");
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw httpError(400, "MalformedJSON");
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Adds `@odata.etag` and the `ETag` header to a successful GET of a JSON object. */
function withEtag(reply: Reply, generation = 0): Reply {
  // A body that carries its own ETag (a captured `@odata.etag`) keeps it.
  if (reply.status !== 200 || !isRecord(reply.body) || reply.headers?.ETag !== undefined) return reply;
  const tag = etagOf(reply.body, generation);
  return { ...reply, body: { ...reply.body, "@odata.etag": tag }, headers: { ...reply.headers, ETag: tag } };
}

function send(res: ServerResponse, method: string, reply: Reply): void {
  const headers: Record<string, string | number> = {
    "OData-Version": "4.0",
    "Cache-Control": "no-cache",
    ...reply.headers,
  };
  let payload: Buffer | undefined;
  if (typeof reply.body === "string" && reply.status !== 204) {
    // Non-JSON bodies ($metadata XML, captured plain-text answers) carry their own Content-Type.
    payload = Buffer.from(reply.body, "utf8");
    headers["Content-Type"] = reply.headers?.["Content-Type"] ?? "text/plain; charset=utf-8";
  } else if (reply.body !== undefined && reply.status !== 204) {
    payload = Buffer.from(JSON.stringify(reply.body), "utf8");
    headers["Content-Type"] = "application/json; charset=utf-8";
  }
  headers["Content-Length"] = payload?.length ?? 0;
  res.writeHead(reply.status, headers);
  res.end(method === "HEAD" ? undefined : payload);
}

/** Dependencies of {@link dispatch}. */
export interface DispatchDeps {
  readonly router: Router;
  readonly sessions: SessionStore;
  readonly state: BmcState;
}

/**
 * Handles one HTTP request: counts it, applies faults (TCP reset, latency, 503), authenticates, routes,
 * enforces `If-Match` on PATCH and renders Redfish errors.
 */
export async function dispatch(deps: DispatchDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state } = deps;
  const method = (req.method ?? "GET").toUpperCase();
  state.requests[method] = (state.requests[method] ?? 0) + 1;
  const faults = state.faults;
  if (faults.tcpResetCount > 0) {
    faults.tcpResetCount--;
    req.socket.destroy();
    return;
  }
  if (faults.latencyMs > 0) await sleep(faults.latencyMs);
  let reply: Reply;
  try {
    if (faults.fail503Count > 0) {
      faults.fail503Count--;
      throw new RedfishHttpError(503, [message("ServiceTemporarilyUnavailable", ["1"])], {
        "Retry-After": "1",
      });
    }
    reply = await route(deps, req, method);
  } catch (err) {
    if (err instanceof RedfishHttpError) {
      reply = { status: err.status, body: errorBody(err.messages), headers: err.headers };
    } else {
      const text = err instanceof Error ? err.message : String(err);
      reply = {
        status: 500,
        body: errorBody([{ ...message("GeneralError"), Resolution: `Internal simulator error: ${text}` }]),
      };
    }
  }
  if (res.destroyed) return;
  send(res, method, reply);
}

async function route(deps: DispatchDeps, req: IncomingMessage, method: string): Promise<Reply> {
  const path = normalisePath(req.url ?? "/");
  const found = deps.router.match(path);
  const effective = method === "HEAD" ? "GET" : method;
  const isPublic = found?.def.public?.includes(effective) ?? false;
  const principal = isPublic ? undefined : deps.sessions.authenticate(req.headers);
  if (!found) {
    const segs = path.split("/");
    throw httpError(404, "ResourceNotFound", ["Resource", segs[segs.length - 1] ?? path]);
  }
  const handler = found.def[effective as "GET" | "PATCH" | "POST" | "DELETE"];
  if (!handler) {
    throw new RedfishHttpError(405, [message("OperationNotAllowed")], {
      Allow: allowedMethods(found.def).join(", "),
    });
  }
  // An upload route (HttpPushUri) takes its POST body raw, up to the size it declares.
  const rawPost = effective === "POST" ? found.def.rawPostBytes : undefined;
  const raw = effective === "GET" ? Buffer.alloc(0) : await readBody(req, rawPost);
  const body = rawPost === undefined ? parseJson(raw) : undefined;
  if (principal?.readOnly && effective !== "GET") {
    const ownLogout = effective === "DELETE" && principal.session && found.params.id === principal.session.id;
    if (!ownLogout) throw httpError(403, "InsufficientPrivilege");
  }
  let current: Record<string, unknown> | undefined;
  const generations = deps.state.etagGenerations;
  if (effective === "PATCH" && deps.state.faults.etagConflictCount > 0) {
    // Fault: another client modified this resource just before this PATCH arrived.
    deps.state.faults.etagConflictCount--;
    generations[path] = (generations[path] ?? 0) + 1;
  }
  if (effective === "PATCH" && found.def.GET) {
    const now = withEtag(
      await found.def.GET({
        method: "GET",
        path,
        params: found.params,
        headers: req.headers,
        body: undefined,
      }),
      generations[path],
    );
    if (isRecord(now.body)) current = now.body;
    const ifMatch = req.headers["if-match"];
    const bodyTag =
      isRecord(body) && typeof body["@odata.etag"] === "string" ? body["@odata.etag"] : undefined;
    const want = typeof ifMatch === "string" ? ifMatch : bodyTag;
    const tag = now.headers?.ETag;
    if (want !== undefined && tag !== undefined && !ifMatchSatisfied(want, tag)) {
      throw httpError(412, "PreconditionFailed");
    }
  }
  const reply = await handler({
    method: effective,
    path,
    params: found.params,
    headers: req.headers,
    body,
    ...(rawPost === undefined ? {} : { raw }),
    principal,
    current,
  });
  const out0 = effective === "GET" || effective === "PATCH" ? withEtag(reply, generations[path]) : reply;
  if (effective !== "GET") return out0;
  const out = await expanded(deps, req, out0);
  // DSP0266 response headers: `Allow` "shall be returned with any GET or HEAD operation to indicate the other
  // allowable operations for this resource" (sushy PATCHes action-less virtual media only when it lists PATCH).
  const allow = ["GET", "HEAD", ...allowedMethods(found.def).filter((m) => m !== "GET")].join(", ");
  return { ...out, headers: { Allow: allow, ...out.headers } };
}

/**
 * `$expand=.($levels=1)` (DSP0266 §7.3, the only form served): a collection's `Members` replaced by each
 * member's body, as a GET of it would answer, when the service root advertises `ExpandQuery` `NoLinks` and
 * `Levels`. Other queries are ignored, as before.
 */
async function expanded(deps: DispatchDeps, req: IncomingMessage, reply: Reply): Promise<Reply> {
  const query = new URL(req.url ?? "/", "https://bmc").searchParams.get("$expand");
  if (query === null || !/^\.\(\$levels=1\)$/.test(query.replace(/\s+/g, ""))) return reply;
  if (reply.status !== 200 || !isRecord(reply.body) || !Array.isArray(reply.body.Members)) return reply;
  const root = deps.router.match("/redfish/v1");
  const rootReply = root?.def.GET
    ? await root.def.GET({
        method: "GET",
        path: "/redfish/v1",
        params: root.params,
        headers: req.headers,
        body: undefined,
      })
    : undefined;
  const features = isRecord(rootReply?.body) ? rootReply.body.ProtocolFeaturesSupported : undefined;
  const expand = isRecord(features) ? features.ExpandQuery : undefined;
  if (!isRecord(expand) || expand.NoLinks !== true || expand.Levels !== true) return reply;
  const members: unknown[] = [];
  for (const m of reply.body.Members) {
    const id = isRecord(m) && typeof m["@odata.id"] === "string" ? m["@odata.id"] : undefined;
    if (!id) {
      members.push(m);
      continue;
    }
    const sub = { url: id, headers: req.headers } as IncomingMessage;
    const r = await route(deps, sub, "GET").catch(() => undefined);
    members.push(r && r.status === 200 && isRecord(r.body) ? r.body : m);
  }
  return { ...reply, body: { ...reply.body, Members: members } };
}
