import { describe, expect, it } from "vitest";
import { logger, redact, registerSecret, setLogSink } from "../../provider/log";

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

  it("ignores values too short to redact safely", () => {
    registerSecret("ab");
    expect(redact("about")).toBe("about");
  });
});
