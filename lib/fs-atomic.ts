// Writing files so that no reader ever sees a half-written one: the data goes to a temporary
// file in the destination's directory (the same file system, so the final rename is atomic) and
// replaces the destination only when complete. On an error abort() removes the temporary file;
// files still pending when the process exits are removed by the 'exit' hook that
// discardPendingFilesOnExit() installs (the CLI turns Ctrl-C into process.exit, which runs it).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { InvalidArgumentError } from './errors.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a component of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a directory',
  EXDEV: 'the temporary file is on another file system',
};

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return (error as Error).message;
  const why = REASONS[code];
  return why === undefined ? code : `${code} (${why})`;
}

/** An error for a destination that cannot be written, naming the path (not the temp file). */
export function writeError(path: string, error: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Cannot write '${path}': ${reason(error)}`, { cause: error });
}

const pending = new Set<AtomicFile>();

/** A file being written: write() appends, commit() puts it in place, abort() throws it away. */
export class AtomicFile {
  /** The destination. */
  readonly path: string;
  /** Where the data goes until commit(). */
  readonly tempPath: string;
  #fd: number | null;
  #written = 0;

  /** Use openAtomic. */
  constructor(path: string, tempPath: string, fd: number) {
    this.path = path;
    this.tempPath = tempPath;
    this.#fd = fd;
    pending.add(this);
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#written;
  }

  write(bytes: Uint8Array): void {
    if (this.#fd === null) throw new InvalidArgumentError(`Cannot write '${this.path}': the file is already committed or aborted`);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    } catch (error) {
      this.abort();
      throw writeError(this.path, error);
    }
    this.#written += done;
  }

  /** Flushes to disk and renames over the destination; on failure the temp file is removed. */
  commit(): void {
    const fd = this.#fd;
    if (fd === null) throw new InvalidArgumentError(`Cannot commit '${this.path}': the file is already committed or aborted`);
    try {
      fsyncSync(fd);
      closeSync(fd);
      this.#fd = null;
      renameSync(this.tempPath, this.path);
    } catch (error) {
      this.abort();
      throw writeError(this.path, error);
    }
    pending.delete(this);
  }

  /** Closes and removes the temporary file; the destination is untouched. Never throws. */
  abort(): void {
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed or invalid: nothing more to release
      }
      this.#fd = null;
    }
    if (pending.delete(this)) {
      try {
        unlinkSync(this.tempPath);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Starts writing `path` atomically. Fails now (not at commit) when the directory is missing or
 * not writable, or when `path` is a directory.
 */
export function openAtomic(path: string): AtomicFile {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // absent: it will be created
  }
  if (isDirectory) throw new InvalidArgumentError(`Cannot write '${path}': it is a directory`);
  // Hidden, unique and in the same directory: rename() is atomic only within one file system.
  const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tempPath, 'wx', 0o666);
  } catch (error) {
    throw writeError(path, error);
  }
  return new AtomicFile(path, tempPath, fd);
}

/** Writes `data` to `path` atomically (a temp file renamed over it). */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const file = openAtomic(path);
  file.write(data);
  file.commit();
}

/** Aborts every file not yet committed; returns how many there were. */
export function discardPendingFiles(): number {
  const files = [...pending];
  for (const file of files) file.abort();
  return files.length;
}

let exitHookInstalled = false;

/**
 * Removes the temporary files of uncommitted writes when the process exits (normally, by
 * process.exit or an uncaught exception). Signals kill Node without an 'exit' event, so a
 * command that should clean up on Ctrl-C also turns SIGINT/SIGTERM into process.exit.
 */
export function discardPendingFilesOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    discardPendingFiles();
  });
}
