// Compiles the native helpers under native/ (C, Linux only) into dist/native/. With no sources
// there is nothing to compile.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
const sources = readdirSync(join(import.meta.dirname, '..', 'native')).filter((f) =>
  f.endsWith('.c'),
);
if (sources.length > 0)
  throw new Error('native helpers need scripts/build-native.js to compile them');
