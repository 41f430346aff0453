import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Client, SFTPWrapper } from "ssh2";
import type { FileData } from "./types";

function call<T>(
  fn: (cb: (err: Error | null | undefined, value?: T) => void) => void,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    fn((err, value) => {
      if (err) reject(err);
      else resolve(value);
    });
  });
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) reject(err);
      else resolve(sftp);
    });
  });
}

async function mkdirP(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split("/").filter((p) => p !== "");
  let cur = dir.startsWith("/") ? "" : ".";
  for (const part of parts) {
    cur = `${cur}/${part}`;
    const path = cur;
    const exists = await call<unknown>((cb) => sftp.stat(path, (err, st) => cb(err, st))).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    await call<void>((cb) => sftp.mkdir(path, { mode: 0o755 }, (err) => cb(err))).catch(async (err) => {
      // Lost a race with another writer: fine if it exists now.
      await call<unknown>((cb) => sftp.stat(path, (e, st) => cb(e, st))).catch(() => {
        throw err;
      });
    });
  }
}

/**
 * Writes `data` to `path` atomically over SFTP: a temporary file in the same directory, chmod, then rename over
 * the destination (OpenSSH's posix-rename when offered, so readers see the old or the new file, never a part).
 * `{ localPath }` is streamed from disk in bounded chunks (memory does not grow with the file's size).
 */
export async function sftpWriteFileAtomic(
  client: Client,
  path: string,
  data: FileData,
  mode: number,
): Promise<void> {
  if (!path.startsWith("/")) throw new TypeError(`writeFileAtomic needs an absolute path, got ${path}`);
  const sftp = await openSftp(client);
  const dir = posix.dirname(path);
  const tmp = posix.join(dir, `.${posix.basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  // ssh2 never answers SFTP requests in flight when the connection dies: turn a close into an error.
  let onClose = (): void => {};
  let closed = false;
  const lost = new Promise<never>((_resolve, reject) => {
    onClose = () => {
      closed = true;
      reject(new Error(`the SSH connection closed while writing ${path} over SFTP`));
    };
    sftp.once("close", onClose);
    client.once("close", onClose);
  });
  lost.catch(() => {});
  try {
    await Promise.race([lost, writeTmpAndRename(sftp, dir, tmp, path, data, mode)]);
  } catch (err) {
    // Best effort, bounded; on a connection that died it is pointless (the leftover temporary file is removed
    // by the next deployment's prepare step).
    if (!closed)
      await Promise.race([
        call<void>((cb) => sftp.unlink(tmp, (e) => cb(e))).catch(() => {}),
        new Promise<void>((r) => setTimeout(r, 2_000).unref()),
      ]);
    throw err;
  } finally {
    sftp.removeListener("close", onClose);
    client.removeListener("close", onClose);
    sftp.end();
  }
}

async function writeTmpAndRename(
  sftp: SFTPWrapper,
  dir: string,
  tmp: string,
  path: string,
  data: FileData,
  mode: number,
): Promise<void> {
  await mkdirP(sftp, dir);
  if (typeof data === "object" && "localPath" in data) {
    // ssh2's fastPut reads the local file in chunks with a bounded number of requests in flight.
    await call<void>((cb) =>
      sftp.fastPut(data.localPath, tmp, { mode, concurrency: 8, chunkSize: 256 * 1024 }, (err) => cb(err)),
    );
  } else {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    await call<void>((cb) => sftp.writeFile(tmp, buf, { mode }, (err) => cb(err)));
  }
  await call<void>((cb) => sftp.chmod(tmp, mode, (err) => cb(err)));
  try {
    await call<void>((cb) => sftp.ext_openssh_rename(tmp, path, (err) => cb(err)));
  } catch {
    // Servers without posix-rename: plain SFTP rename refuses to overwrite, so remove the target first.
    await call<void>((cb) => sftp.unlink(path, (err) => cb(err))).catch(() => {});
    await call<void>((cb) => sftp.rename(tmp, path, (err) => cb(err)));
  }
}
