// The proof of work's Web Worker, as a script a page serves from its own
// origin (FoyerClientOptions.powWorkerUrl): a Content-Security-Policy of
// `worker-src 'self'` refuses the Blob worker the client makes otherwise.
import { servePowInWorker } from "./pow.js";

servePowInWorker(globalThis as unknown as Parameters<typeof servePowInWorker>[0]);
