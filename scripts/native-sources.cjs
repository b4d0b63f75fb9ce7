#!/usr/bin/env node
// Prints parts of native/sources.json, space-separated, for binding.gyp's <!@(...) expansion.
//   native-sources.cjs core | addon            the file list
//   native-sources.cjs kernels <path>          that path's sources
//   native-sources.cjs flags <path>            that path's compiler flags
'use strict';
const path = require('node:path');
const sources = require(path.join(__dirname, '..', 'native', 'sources.json'));

const [what, isa] = process.argv.slice(2);
const kernel = isa === undefined ? undefined : sources.kernels[isa];
if ((what === 'kernels' || what === 'flags') && !kernel) {
  console.error(`native-sources: unknown kernel path '${isa}'`);
  process.exit(1);
}
const list =
  what === 'kernels' ? kernel.sources : what === 'flags' ? kernel.flags : sources[what];
if (!Array.isArray(list)) {
  console.error(`native-sources: unknown group '${what}'`);
  process.exit(1);
}
// gyp resolves sources relative to binding.gyp, the repository root.
console.log(list.join(' '));
