// lib/fs-atomic.ts: a destination is replaced only by complete data; failures and exits leave
// no temporary file behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

import { discardPendingFiles, openAtomic, writeFileAtomic } from '../lib/fs-atomic.js';
import { packageRoot } from '../lib/native/loader.js';

const work = mkdtempSync(join(tmpdir(), 'litequant-atomic-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const temps = (): string[] => readdirSync(work).filter((f) => f.endsWith('.tmp'));

t.test('commit replaces the destination; abort and discard leave it as it was', async (t) => {
  const path = join(work, 'a.bin');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  t.same([...readFileSync(path)], [1, 2, 3]);
  const file = openAtomic(path);
  file.write(new Uint8Array([9, 9]));
  t.same([...readFileSync(path)], [1, 2, 3], 'the old content until commit');
  t.equal(file.bytesWritten, 2);
  t.ok(existsSync(file.tempPath) && file.tempPath.startsWith(join(work, '.a.bin.')), 'a hidden temp file beside it');
  file.commit();
  t.same([...readFileSync(path)], [9, 9]);
  t.throws(() => file.write(new Uint8Array(1)), { message: /already committed or aborted/ });

  const aborted = openAtomic(path);
  aborted.write(new Uint8Array([7]));
  aborted.abort();
  aborted.abort();
  t.same([...readFileSync(path)], [9, 9]);
  openAtomic(join(work, 'b.bin'));
  openAtomic(join(work, 'c.bin'));
  t.equal(discardPendingFiles(), 2);
  t.notOk(existsSync(join(work, 'b.bin')) || existsSync(join(work, 'c.bin')));
  t.same(temps(), []);
});

t.test('unwritable destinations fail at open, naming the path', async (t) => {
  mkdirSync(join(work, 'dir'));
  t.throws(() => openAtomic(join(work, 'dir')), { message: /Cannot write '.*dir': it is a directory/ });
  t.throws(() => openAtomic(join(work, 'missing', 'x')), { message: /Cannot write '.*missing\/x': ENOENT \(the directory does not exist\)/ });
  writeFileSync(join(work, 'file'), 'x');
  t.throws(() => openAtomic(join(work, 'file', 'x')), { message: /ENOTDIR/ });
  t.same(temps(), []);
});

t.test('discardPendingFilesOnExit removes uncommitted temp files when the process exits', async (t) => {
  const module = pathToFileURL(join(packageRoot, 'dist', 'fs-atomic.js')).href;
  const script = `
    import { openAtomic, discardPendingFilesOnExit } from ${JSON.stringify(module)};
    discardPendingFilesOnExit();
    openAtomic(${JSON.stringify(join(work, 'exit.bin'))}).write(new Uint8Array(10));
    process.exit(3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(r.status, 3, r.stderr);
  t.notOk(existsSync(join(work, 'exit.bin')));
  t.same(temps(), []);
});
