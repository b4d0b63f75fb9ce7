// native/sources.json is the one list of C++ sources: every .cc under native/ is in it,
// every entry exists, and every kernel path has its own target in binding.gyp.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';

import { packageRoot } from '../../lib/native/loader.js';

interface KernelPath {
  arch: string;
  flags: string[];
  sources: string[];
}
interface Sources {
  core: string[];
  kernels: Record<string, KernelPath>;
  addon: string[];
  tests: string[];
  bench: string[];
}

const sources = JSON.parse(readFileSync(join(packageRoot, 'native', 'sources.json'), 'utf8')) as Sources;
const listed = [
  ...sources.core,
  ...Object.values(sources.kernels).flatMap((k) => k.sources),
  ...sources.addon,
  ...sources.tests,
  ...sources.bench,
];

function ccFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ccFiles(path);
    return name.endsWith('.cc') ? [relative(packageRoot, path)] : [];
  });
}

t.test('every .cc file under native/ is listed in native/sources.json', async (t) => {
  const missing = ccFiles(join(packageRoot, 'native')).filter((f) => !listed.includes(f));
  t.same(missing, [], `add these to native/sources.json: ${missing.join(', ')}`);
});

t.test('every listed source exists, once', async (t) => {
  for (const f of listed) t.ok(existsSync(join(packageRoot, f)), `${f} exists`);
  t.equal(new Set(listed).size, listed.length, 'no file is listed twice');
});

t.test('every kernel path has a target in binding.gyp and only its own flags', async (t) => {
  const gyp = readFileSync(join(packageRoot, 'binding.gyp'), 'utf8');
  for (const [path, k] of Object.entries(sources.kernels)) {
    t.match(gyp, `'litequant_kernels_${path}'`, `${path}: target`);
    t.match(gyp, `kernels ${path})`, `${path}: sources from sources.json`);
    if (k.flags.length > 0) t.match(gyp, `flags ${path})`, `${path}: flags from sources.json`);
    t.notOk(k.flags.some((f) => f.includes('native')), `${path}: no -march=native`);
  }
  t.notMatch(gyp, /march=native/);
  t.notMatch(readFileSync(join(packageRoot, 'CMakeLists.txt'), 'utf8'), /march=native/);
});
