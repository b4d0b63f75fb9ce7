// What a user gets from `npm i litequant` under npm 11, where a dependency's install
// script does not run until approved: the package must load from its prebuilt
// binary, and without one the error must say how to build it.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { packageRoot } from '../../lib/native/loader.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'litequant-install-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function importCapabilities(cwd: string) {
  return spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "import('litequant').then(m => console.log(JSON.stringify(m.capabilities())))"],
    { cwd, encoding: 'utf8', env: { ...process.env, LITEQUANT_ISA: '' } },
  );
}

t.test('the packed package installs without scripts and loads its prebuild', async (t) => {
  // Pack a copy of the sources, so the prebuild's compile does not replace the
  // build/ that other tests load from. npm pack runs prepack: tsc, then prebuildify.
  const src = join(work, 'src');
  mkdirSync(src);
  for (const entry of ['package.json', 'tsconfig.json', 'binding.gyp', 'CMakeLists.txt', 'README.md', 'lib', 'native', 'cmake', 'scripts']) {
    if (existsSync(join(packageRoot, entry))) cpSync(join(packageRoot, entry), join(src, entry), { recursive: true });
  }
  symlinkSync(join(packageRoot, 'node_modules'), join(src, 'node_modules'), 'dir');
  const tarball = run(npm, ['pack', '--silent', '--pack-destination', work], src).trim().split('\n').pop() ?? '';
  t.ok(existsSync(join(work, tarball)), `packed ${tarball}`);

  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
  run(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(work, tarball)], app);
  const installed = join(app, 'node_modules', 'litequant');
  t.notOk(existsSync(join(installed, 'build')), 'nothing was compiled at install');
  t.same(readdirSync(join(installed, 'prebuilds')), [`${process.platform}-${process.arch}`]);

  const r = importCapabilities(app);
  t.equal(r.status, 0, r.stderr);
  const caps = JSON.parse(r.stdout) as { binary: string; selected: string; isa: string[] };
  t.match(caps.binary, join('prebuilds', `${process.platform}-${process.arch}`), 'loaded from prebuilds/');
  t.ok(caps.isa.includes(caps.selected));
  t.comment(`installed package selected ${caps.selected} from ${caps.binary}`);

  const kernels = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "import('litequant/kernels').then(m => console.log(typeof m.packQs8Gemm, typeof m.conv2d))"],
    { cwd: app, encoding: 'utf8' },
  );
  t.equal(kernels.stdout.trim(), 'function function', 'the litequant/kernels entry point resolves');

  const cli = spawnSync(join(app, 'node_modules', '.bin', 'litequant'), ['capabilities'], { encoding: 'utf8' });
  t.equal(cli.status, 0, cli.stderr);
  t.match(cli.stdout, /selected +\w+/);

  // Without a matching binary the error names what was looked for and the fix.
  rmSync(join(installed, 'prebuilds'), { recursive: true });
  const missing = importCapabilities(app);
  t.not(missing.status, 0);
  t.match(missing.stderr, /ERR_LITEQUANT_NATIVE_LOAD|No litequant native binary/);
  t.match(missing.stderr, /platform=linux|platform=\w+/);
  t.match(missing.stderr, /npm install-scripts approve litequant/);
  t.match(missing.stderr, /npm rebuild litequant/);
});
