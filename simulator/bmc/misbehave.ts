import type { BmcContext } from "./context";
import { httpError } from "./errors";
import { etagOf } from "./etag";
import { taskAccepted } from "./resources/tasks";
import { type Handler, type Reply, type RequestCtx, type RouteMatch, Router } from "./router";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The ETag `tag` in the form fault `etagStyle` asks for: 1 double-quoted `""x""`, 2 weak `W/"x"`. */
export function styledEtag(tag: string, style: number): string {
  const bare = tag
    .trim()
    .replace(/^W\//i, "")
    .replace(/^"+|"+$/g, "");
  return style === 1 ? `""${bare}""` : style === 2 ? `W/"${bare}"` : `"${bare}"`;
}

const isSessionLogin = (path: string) => /\/SessionService\/Sessions$/.test(path);
const isInsert = (path: string) => /InsertMedia$/.test(path);

/**
 * Field misbehaviours any profile can switch on (the `BmcFaultSettings` counters and toggles): wraps every route
 * of `inner`, so the profile's own handlers stay as they are. InsertMedia answering 204 without attaching, ETags
 * double-quoted or weak only, If-Match refused on POST, session limit reached, 202 + Location for actions, task
 * monitors that vanish after their first poll.
 */
export class MisbehavingRouter extends Router {
  /** Task monitors that answer 404 from their second poll on, with their poll count. */
  private readonly gone = new Map<string, number>();

  constructor(
    private readonly inner: Router,
    private readonly c: BmcContext,
  ) {
    super();
  }

  override match(path: string): RouteMatch | undefined {
    const found = this.inner.match(path);
    if (!found) return undefined;
    const d = found.def;
    const wrap = (h: Handler | undefined, f: (h: Handler, ctx: RequestCtx) => Promise<Reply>) =>
      h ? { handler: (ctx: RequestCtx) => f(h, ctx) } : undefined;
    const get = wrap(d.GET, (h, ctx) => this.get(h, ctx));
    const patch = wrap(d.PATCH, (h, ctx) => this.patch(h, ctx));
    const post = wrap(d.POST, (h, ctx) => this.post(h, ctx));
    return {
      params: found.params,
      def: {
        ...d,
        ...(get ? { GET: get.handler } : {}),
        ...(patch ? { PATCH: patch.handler } : {}),
        ...(post ? { POST: post.handler } : {}),
      },
    };
  }

  private get faults() {
    return this.c.state.faults;
  }

  /** A reply whose ETag (and `@odata.etag`) has the form `etagStyle` asks for. */
  private styled(reply: Reply, path: string): Reply {
    const style = this.faults.etagStyle;
    if (style === 0 || reply.status !== 200 || !isRecord(reply.body)) return reply;
    const tag = reply.headers?.ETag ?? etagOf(reply.body, this.c.state.etagGenerations[path] ?? 0);
    const out = styledEtag(tag, style);
    return {
      ...reply,
      body: { ...reply.body, "@odata.etag": out },
      headers: { ...reply.headers, ETag: out },
    };
  }

  private async get(h: Handler, ctx: RequestCtx): Promise<Reply> {
    const polls = this.gone.get(ctx.path);
    if (polls !== undefined) {
      this.gone.set(ctx.path, polls + 1);
      if (polls >= 1)
        throw httpError(404, "ResourceNotFound", ["TaskMonitor", ctx.path.split("/").pop() ?? ""]);
    }
    return this.styled(await h(ctx), ctx.path);
  }

  private async patch(h: Handler, ctx: RequestCtx): Promise<Reply> {
    const ifMatch = ctx.headers["if-match"];
    if (this.faults.etagStyle === 2 && typeof ifMatch === "string" && /^\s*W\//i.test(ifMatch))
      throw httpError(412, "PreconditionFailed");
    if (
      this.faults.insertNoAttachCount > 0 &&
      ctx.path.includes("/VirtualMedia/") &&
      isRecord(ctx.body) &&
      typeof ctx.body.Image === "string"
    ) {
      this.faults.insertNoAttachCount--;
      return { status: 204 };
    }
    return this.styled(await h(ctx), ctx.path);
  }

  private async post(h: Handler, ctx: RequestCtx): Promise<Reply> {
    const f = this.faults;
    if (f.rejectIfMatchOnPost > 0 && ctx.headers["if-match"] !== undefined)
      throw httpError(412, "PreconditionFailed");
    if (f.sessionLimitCount > 0 && isSessionLogin(ctx.path)) {
      f.sessionLimitCount--;
      throw httpError(503, "SessionLimitExceeded");
    }
    if (f.insertNoAttachCount > 0 && isInsert(ctx.path)) {
      f.insertNoAttachCount--;
      return { status: 204 };
    }
    let reply = await h(ctx);
    if (
      f.asyncActionCount > 0 &&
      ctx.path.includes("/Actions/") &&
      reply.status < 300 &&
      reply.status !== 202
    ) {
      f.asyncActionCount--;
      const task = this.c.tasks.start("Action", ctx.path, async (t) => t.minDuration());
      reply = taskAccepted(task);
    }
    const location = reply.headers?.Location;
    if (reply.status === 202 && location && f.taskMonitorGoneCount > 0) {
      f.taskMonitorGoneCount--;
      this.gone.set(new URL(location, "https://bmc").pathname.replace(/\/+$/, ""), 0);
    }
    return reply;
  }
}
