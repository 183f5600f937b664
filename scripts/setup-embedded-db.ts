/** `npm run setup:db`: builds the embedded FerretDB once (no-op when cached). */
import { ensureFerretDbBinary } from '../server/db/embedded/ferretdb-binary.ts';

const started = Date.now();
const binary = await ensureFerretDbBinary((line) => console.log(`[setup:db] ${line}`));
console.log(`[setup:db] FerretDB binary: ${binary} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
