import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Client } from "ssh2";
import { type Logger, redact, registerSecret } from "../log";
import { dialOnce } from "../ssh/dial";
import { sftpWriteFileAtomic } from "../ssh/sftp";
import type { FileData, SshTarget } from "../ssh/types";
import { type StageContent, StageError, streamParts } from "./content";
import type { SftpStageSpec } from "./stage.schema";
import { contentStage, type ImageStage } from "./types";

function unlink(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) return reject(err);
      sftp.unlink(path, (e) => {
        sftp.end();
        // Already gone is fine: removal is idempotent.
        if (e && (e as { code?: number }).code !== 2) reject(e);
        else resolve();
      });
    });
  });
}

/** What to hand the SFTP writer: one local file as is, bytes as bytes, a mix through a private temporary file. */
async function fileData(content: StageContent, tmp: () => Promise<string>): Promise<FileData> {
  const [only] = content.parts;
  if (content.parts.length === 1 && only !== undefined && "file" in only) return { localPath: only.file };
  if (content.parts.every((p) => "bytes" in p)) {
    return Buffer.concat(content.parts.map((p) => ("bytes" in p ? p.bytes : new Uint8Array())));
  }
  const path = join(await tmp(), "object");
  await pipeline(streamParts(content), createWriteStream(path, { mode: 0o600 }));
  return { localPath: path };
}

/**
 * An SFTP upload target: objects are written atomically as `<directory>/<sha256>-<name>` over a connection
 * whose host key is pinned, the BMC fetches them from `fetchUrl`, and `close()` removes them. The connection is
 * opened when the stage opens: an unreachable store or a wrong key fails there, before the BMC is touched.
 */
export async function openSftpStage(spec: SftpStageSpec, log: Logger): Promise<ImageStage> {
  registerSecret(spec.password);
  registerSecret(spec.privateKey);
  const target: SshTarget = {
    host: spec.host,
    port: spec.port,
    username: spec.username,
    ...(spec.password !== undefined ? { password: spec.password } : {}),
    ...(spec.privateKey !== undefined ? { privateKey: spec.privateKey } : {}),
    hostKey: spec.hostKey,
    jumpHosts: [],
    dialAttempts: 1,
    dialTimeoutMs: 15_000,
    keepaliveIntervalMs: 10_000,
    sudo: false,
  };
  const label = `image stage sftp://${spec.username}@${spec.host}:${spec.port}${spec.directory}`;
  const dir = spec.directory.replace(/\/+$/, "") || "/";
  const fetchBase = spec.fetchUrl.replace(/\/+$/, "");
  let client: Client;
  try {
    client = (await dialOnce(target)).client;
  } catch (err) {
    throw new StageError(
      `connect to ${label}: ${redact((err as Error).message)}; nothing was sent to the BMC`,
      {
        cause: err,
      },
    );
  }
  const written: string[] = [];
  let tmpDir: string | undefined;
  const tmp = async () => {
    tmpDir ??= await mkdtemp(join(tmpdir(), "pulumi-dpu-stage-"));
    return tmpDir;
  };
  const put = async (key: string, content: StageContent): Promise<string> => {
    const path = posix.join(dir, key);
    try {
      await sftpWriteFileAtomic(client, path, await fileData(content, tmp), 0o644);
    } catch (err) {
      throw new StageError(
        `upload ${key} to ${label}: ${redact((err as Error).message)}; nothing was sent to the BMC`,
        {
          cause: err,
          retryable: true,
        },
      );
    }
    written.push(path);
    log.info(`image stage: uploaded ${key} (${content.size} bytes) to ${label}`);
    return `${fetchBase}/${key}`;
  };
  const release = async (): Promise<void> => {
    const problems: string[] = [];
    for (const path of written.splice(0)) {
      await unlink(client, path).catch((err: Error) => problems.push(`${path}: ${redact(err.message)}`));
    }
    client.end();
    if (tmpDir !== undefined) await rm(tmpDir, { recursive: true, force: true });
    if (problems.length > 0)
      throw new StageError(`remove staged objects from ${label}: ${problems.join("; ")}`);
  };
  return contentStage(label, put, release, (key) => {
    const path = posix.join(dir, key);
    if (!written.includes(path)) written.push(path);
  });
}
