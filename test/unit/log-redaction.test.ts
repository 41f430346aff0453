import { describe, expect, it } from "vitest";
import {
  logger,
  publicUrl,
  redact,
  registerSecret,
  registerUrlSecrets,
  setLogSink,
} from "../../provider/log";

describe("logger", () => {
  it("redacts registered secrets, including lines of a PEM key", () => {
    const key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    registerSecret("hunter2-password");
    registerSecret(key);
    const lines: string[] = [];
    const restore = setLogSink((_l, line) => lines.push(line));
    try {
      logger("DpuHost dpu-0").info(
        "login with hunter2-password and b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
      );
    } finally {
      restore();
    }
    expect(lines).toEqual(["[dpu] DpuHost dpu-0: login with [secret] and [secret]"]);
    expect(redact("x hunter2-password y")).toBe("x [secret] y");
  });

  it("redacts short secrets where they stand as a whole token, and leaves words containing them alone", () => {
    registerSecret("ab");
    registerSecret("x9!");
    expect(redact("about")).toBe("about");
    expect(redact("cab table ab1 _ab")).toBe("cab table ab1 _ab");
    expect(redact("update failed: password ab rejected")).toBe("update failed: password [secret] rejected");
    expect(redact('{"Password":"ab"} user:ab')).toBe('{"Password":"[secret]"} user:[secret]');
    expect(redact("token=x9! end")).toBe("token=[secret] end");
    expect(redact("x9!x")).toBe("x9!x");
  });

  it("redacts a secret's JSON-escaped and URL-encoded forms (a quote, a backslash, a newline, a space)", () => {
    const secret = 'pa"ss\\wd/é x\nnext';
    registerSecret(secret);
    const json = JSON.stringify({ token: secret });
    expect(redact(`error: ${json}`)).toBe('error: {"token":"[secret]"}');
    // A JSON document quoted inside another JSON string (an API error wrapping a request body).
    expect(redact(JSON.stringify({ body: json }))).toBe(JSON.stringify({ body: '{"token":"[secret]"}' }));
    expect(redact(`GET /x?t=${encodeURIComponent(secret)}&a=1`)).toBe("GET /x?t=[secret]&a=1");
    expect(redact(`POST body t=${new URLSearchParams([["t", secret]]).toString().slice(2)}`)).toBe(
      "POST body t=[secret]",
    );
    const lowerHex = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    expect(redact(`GET /x?t=${lowerHex}`)).toBe("GET /x?t=[secret]");
    // As Python (non-ASCII escaped) and Go (`<`, `>`, `&` escaped) write JSON.
    registerSecret("pässw<ord>&1");
    expect(redact('{"password": "p\\u00e4ssw<ord>&1"}')).toBe('{"password": "[secret]"}');
    expect(redact('{"password":"pässw\\u003cord\\u003e\\u00261"}')).toBe('{"password":"[secret]"}');
    // Short secrets too, as whole tokens.
    registerSecret('q"');
    expect(redact(JSON.stringify({ pin: 'q"' }))).toBe('{"pin":"[secret]"}');
  });

  it("strips URL userinfo from any text, registered or not", () => {
    expect(redact("GET http://u:p@host:8080/a.iso failed")).toBe(
      "GET http://[secret]@host:8080/a.iso failed",
    );
    expect(redact("https://token@example.com/x and http://host/y@z")).toBe(
      "https://[secret]@example.com/x and http://host/y@z",
    );
    expect(redact("mail me: a@b.c")).toBe("mail me: a@b.c");
  });

  it("treats URL credentials and token query parameters like passwords", () => {
    registerUrlSecrets("http://fetch:s3cr3t-pw@img.lab/a.iso?X-Amz-Signature=abcdef123456&size=10");
    expect(redact("the BMC said s3cr3t-pw and abcdef123456")).toBe("the BMC said [secret] and [secret]");
    expect(publicUrl("http://fetch:s3cr3t-pw@img.lab/a.iso?X-Amz-Signature=abcdef123456&size=10")).toBe(
      "http://img.lab/a.iso?X-Amz-Signature=%5Bsecret%5D&size=10",
    );
    expect(publicUrl("http://img.lab/plain.iso")).toBe("http://img.lab/plain.iso");
  });
});
