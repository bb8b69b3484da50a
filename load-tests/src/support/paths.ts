import { fileURLToPath } from 'node:url';

/** The repository root (load-tests/src/support or load-tests/dist/support → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
