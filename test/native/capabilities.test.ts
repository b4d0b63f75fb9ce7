// capabilities() reports detection, build and selection; LITEQUANT_ISA forces a
// path or fails with a clear, typed error.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

import { capabilities } from '../../lib/native/index.js';
import { packageRoot } from '../../lib/native/loader.js';

const entry = pathToFileURL(join(packageRoot, 'dist', 'index.js')).href;

/** Runs capabilities() in a fresh process with LITEQUANT_ISA set (the compiled package). */
function capabilitiesWith(isa: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import(${JSON.stringify(entry)}).then((m) => {
    try { console.log(JSON.stringify(m.capabilities())); }
    catch (e) { console.error(e.code + ': ' + e.message); process.exit(3); }
  });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LITEQUANT_ISA: isa },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('capabilities() reports detected, built and selected paths', async (t) => {
  const caps = capabilities();
  t.ok(caps.isa.includes('reference'), 'reference is always supported');
  t.ok(caps.built.includes('reference'), 'reference is always built');
  t.ok(caps.isa.includes(caps.selected), 'the selected path is supported');
  t.ok(caps.built.includes(caps.selected), 'the selected path is built');
  t.type(caps.cpu, 'string');
  t.match(caps.binary, /\.node$/);
  // The paths with kernel files for this architecture (native/sources.json) are the ones built.
  const { builtPaths } = createRequire(import.meta.url)(join(packageRoot, 'scripts', 'native-sources.cjs')) as {
    builtPaths(arch: string): string[];
  };
  t.same(caps.built.slice().sort(), builtPaths(process.arch).sort());
  if (process.arch === 'x64') {
    t.equal(caps.features.avx2 && caps.features.fma && caps.features.f16c, caps.isa.includes('avx2'));
  }
  if (process.env['LITEQUANT_ISA']) {
    t.equal(caps.selected, process.env['LITEQUANT_ISA']);
    t.equal(caps.forced, process.env['LITEQUANT_ISA']);
  } else {
    t.equal(caps.forced, null);
    // Automatic choice: the last (best) path that is both built and supported.
    const usable = caps.built.filter((p) => caps.isa.includes(p));
    t.ok(usable.includes(caps.selected));
    if (usable.includes('avx512')) t.equal(caps.selected, 'avx512');
    else if (usable.includes('avx2')) t.equal(caps.selected, 'avx2');
  }
  t.comment(`cpu ${caps.cpu}; supported ${caps.isa.join(',')}; built ${caps.built.join(',')}; selected ${caps.selected}`);
});

t.test('LITEQUANT_ISA forces each usable path and refuses the others', async (t) => {
  const caps = capabilities();
  for (const isa of ['reference', 'avx2', 'avxvnni', 'avx512', 'avx512vnni', 'amx', 'neon', 'neondot']) {
    const r = capabilitiesWith(isa);
    if (caps.built.includes(isa as never) && caps.isa.includes(isa as never)) {
      t.equal(r.status, 0, `${isa}: loads (${r.stderr.trim()})`);
      t.equal(JSON.parse(r.stdout).selected, isa, `${isa}: selected`);
    } else {
      t.equal(r.status, 3, `${isa}: refused`);
      t.match(r.stderr, /^ERR_LITEQUANT_ISA_UNAVAILABLE: LITEQUANT_ISA=/, `${isa}: typed error`);
      t.match(r.stderr, caps.built.includes(isa as never) ? /does not support/ : /built without/);
    }
  }
  const unknown = capabilitiesWith('sse9');
  t.equal(unknown.status, 3);
  t.match(unknown.stderr, /ERR_LITEQUANT_ISA_UNAVAILABLE: LITEQUANT_ISA=sse9 .*Expected one of reference/);
});
