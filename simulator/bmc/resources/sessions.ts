import { unauthorized } from "../auth";
import { type BmcContext, collection } from "../context";
import { httpError, message, RedfishHttpError, type RedfishMessage } from "../errors";
import type { Router } from "../router";
import type { SessionRecord } from "../state";

const SERVICE = "/redfish/v1/SessionService";
const SESSIONS = `${SERVICE}/Sessions`;

function sessionBody(s: SessionRecord): Record<string, unknown> {
  return {
    "@odata.type": "#Session.v1_8_0.Session",
    "@odata.id": `${SESSIONS}/${s.id}`,
    Id: s.id,
    Name: "User Session",
    UserName: s.user,
    Password: null,
    SessionType: "Redfish",
    CreatedTime: s.created,
  };
}

/** SessionService: login (POST Sessions → 201 + X-Auth-Token + Location), logout (DELETE), listing. */
export function registerSessions(r: Router, c: BmcContext): void {
  r.add(SERVICE, {
    GET: () => ({
      status: 200,
      body: {
        "@odata.type": "#SessionService.v1_2_0.SessionService",
        "@odata.id": SERVICE,
        Id: "SessionService",
        Name: "Session Service",
        ServiceEnabled: true,
        // The schema allows 30..86400 s; shorter lab timeouts are still enforced to the millisecond.
        SessionTimeout: Math.min(86400, Math.max(30, Math.ceil(c.sessionIdleTimeoutMs / 1000))),
        Sessions: { "@odata.id": SESSIONS },
        Status: { State: "Enabled", Health: "OK" },
      },
    }),
  });
  r.add(SESSIONS, {
    public: ["POST"],
    GET: () => ({
      status: 200,
      body: collection(
        "SessionCollection",
        SESSIONS,
        "Session Collection",
        c.sessions.list().map((s) => `${SESSIONS}/${s.id}`),
      ),
    }),
    POST: ({ body }) => {
      const rec = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
      const missing: RedfishMessage[] = [];
      for (const k of ["UserName", "Password"]) {
        if (typeof rec[k] !== "string") missing.push(message("PropertyMissing", [k], [`#/${k}`]));
      }
      if (missing.length > 0) throw new RedfishHttpError(400, missing);
      const acct = c.sessions.account(rec.UserName, rec.Password);
      if (!acct) throw unauthorized();
      const s = c.sessions.create(acct);
      return {
        status: 201,
        body: sessionBody(s),
        headers: { "X-Auth-Token": s.token, Location: `${SESSIONS}/${s.id}` },
      };
    },
  });
  r.add(`${SESSIONS}/:id`, {
    GET: ({ params }) => {
      const s = c.sessions.get(params.id ?? "");
      if (!s) throw httpError(404, "ResourceNotFound", ["Session", params.id ?? ""]);
      return { status: 200, body: sessionBody(s) };
    },
    DELETE: ({ params }) => {
      if (!c.sessions.delete(params.id ?? ""))
        throw httpError(404, "ResourceNotFound", ["Session", params.id ?? ""]);
      return { status: 204 };
    },
  });
}
