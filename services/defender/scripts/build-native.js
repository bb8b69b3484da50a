// Compiles the native helpers under native/ (C, Linux only) into dist/native/. Placeholder
// until a helper exists: with no sources there is nothing to compile.
import { readdirSync } from 'node:fs';
const sources = readdirSync(new URL('../native/', import.meta.url)).filter((f) => f.endsWith('.c'));
if (sources.length > 0) throw new Error('native helpers need scripts/build-native.js to compile them');
