import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Files and PEM text of a lab PKI: one CA and one server certificate for the loopback addresses. */
export interface LabPki {
  /** Path of the CA certificate (PEM). Clients trust this file. */
  readonly caFile: string;
  /** CA certificate PEM text. */
  readonly caPem: string;
  /** Server private key PEM (EC P-256). */
  readonly key: string;
  /** Server certificate PEM followed by the CA certificate (chain). */
  readonly cert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run("openssl", args, { cwd, timeout: 30_000 });
}

/**
 * Creates a lab CA and a server certificate signed by it, for `127.0.0.1`, `::1` and `localhost`.
 * Keys are EC P-256 so generation is fast. Everything is written under `dir` (created if missing);
 * no secret ever appears on a command line.
 */
export async function createLabPki(dir: string): Promise<LabPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const days = "825";
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  await openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-sha256",
      "-days",
      days,
      "-subj",
      "/CN=pulumi-dpu lab CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.pem",
    ],
    dir,
  );
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"], dir);
  await openssl(["req", "-new", "-key", "server.key", "-subj", "/CN=localhost", "-out", "server.csr"], dir);
  await writeFile(
    join(dir, "server.ext"),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyAgreement",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
      "",
    ].join("\n"),
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-sha256",
      "-days",
      days,
      "-extfile",
      "server.ext",
      "-out",
      "server.pem",
    ],
    dir,
  );
  const caFile = join(dir, "ca.pem");
  const [caPem, key, leaf] = await Promise.all([
    readFile(caFile, "utf8"),
    readFile(join(dir, "server.key"), "utf8"),
    readFile(join(dir, "server.pem"), "utf8"),
  ]);
  return { caFile, caPem, key, cert: `${leaf.trimEnd()}\n${caPem}` };
}
