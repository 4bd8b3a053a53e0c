// A fence thread started from the source tree (npm start, the tests): TypeScript through tsx.
// Bundles start fence-worker.mjs instead (bin/build-fence-worker.js).
import { register } from "tsx/esm/api";

register();
await import(new URL("./worker.ts", import.meta.url).href);
