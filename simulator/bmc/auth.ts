import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { httpError, message, RedfishHttpError } from "./errors";
import { nowIso, type SessionRecord } from "./state";

/** An account the BMC accepts. */
export interface Account {
  readonly username: string;
  readonly password: string;
  /** Read-only accounts get 403 InsufficientPrivilege on any change. */
  readonly readOnly: boolean;
}

/** Who a request is from. */
export interface Principal {
  readonly user: string;
  readonly readOnly: boolean;
  readonly session?: SessionRecord;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sessions with idle expiry and a limit, plus Basic authentication. */
export class SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private nextId = 1;

  constructor(
    private readonly accounts: readonly Account[],
    private readonly idleTimeoutMs: number,
    private readonly maxSessions: number,
  ) {}

  /** Drops sessions idle for longer than the timeout. */
  private sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (now - s.lastUsed > this.idleTimeoutMs) this.sessions.delete(id);
  }

  /** Active sessions (after expiry). */
  list(): SessionRecord[] {
    this.sweep();
    return [...this.sessions.values()];
  }

  get(id: string): SessionRecord | undefined {
    this.sweep();
    return this.sessions.get(id);
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Ends every session. */
  clear(): void {
    this.sessions.clear();
  }

  /** Checks credentials; undefined when wrong. */
  account(user: unknown, password: unknown): Account | undefined {
    if (typeof user !== "string" || typeof password !== "string") return undefined;
    return this.accounts.find((a) => a.username === user && sameSecret(a.password, password));
  }

  /** Creates a session (POST SessionService/Sessions). */
  create(acct: Account): SessionRecord {
    this.sweep();
    if (this.sessions.size >= this.maxSessions) throw httpError(503, "SessionLimitExceeded");
    const id = String(this.nextId++);
    const rec: SessionRecord = {
      id: `${id}-${randomUUID().slice(0, 8)}`,
      token: randomBytes(24).toString("base64url"),
      user: acct.username,
      readOnly: acct.readOnly,
      created: nowIso(),
      lastUsed: Date.now(),
    };
    this.sessions.set(rec.id, rec);
    return rec;
  }

  /** Authenticates a request by `X-Auth-Token` or Basic; throws 401 when neither is valid. */
  authenticate(headers: IncomingHttpHeaders): Principal {
    const token = headers["x-auth-token"];
    if (typeof token === "string" && token !== "") {
      this.sweep();
      for (const s of this.sessions.values()) {
        if (sameSecret(s.token, token)) {
          s.lastUsed = Date.now();
          return { user: s.user, readOnly: s.readOnly, session: s };
        }
      }
      throw unauthorized();
    }
    const auth = headers.authorization;
    if (typeof auth === "string" && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const acct = colon < 0 ? undefined : this.account(decoded.slice(0, colon), decoded.slice(colon + 1));
      if (acct) return { user: acct.username, readOnly: acct.readOnly };
    }
    throw unauthorized();
  }
}

/** 401 with a Basic challenge and a NoValidSession body. */
export function unauthorized(): RedfishHttpError {
  return new RedfishHttpError(401, [message("NoValidSession")], {
    "WWW-Authenticate": 'Basic realm="Redfish", charset="UTF-8"',
  });
}
