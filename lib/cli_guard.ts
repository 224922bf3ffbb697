/**
 * Imported first by `lib/cli.ts`: keeps SIGUSR1 from opening a debugger in
 * `redis-lock`, whatever it is doing. Node opens its inspector on SIGUSR1
 * unless a listener is installed, and this module installs one for the whole
 * life of the process (`run` forwards SIGUSR1 to its command through its
 * own listener). Deno 2.9.2 and later open the inspector on SIGUSR1 even
 * with a listener (from 500 ms after start); there the listener closes it
 * again as soon as it appears, a few milliseconds later. Bun opens none.
 *
 * @module
 */

import process from "node:process";

type Inspector = { url(): string | undefined; close(): void };

let inspector: Inspector | undefined;
if ("Deno" in globalThis) {
  // Only Deno needs it; Bun's node:inspector is a stub.
  import("node:inspector").then((module) => inspector = module as unknown as Inspector, () => {});
}

/** Closes an inspector that Deno opened on this SIGUSR1, looking for up to a second. */
function closeInspector(): void {
  if (!inspector) return;
  const started = performance.now();
  const look = () => {
    try {
      if (inspector!.url()) {
        inspector!.close();
        return;
      }
    } catch {
      return; // not allowed here: nothing more to do
    }
    if (performance.now() - started < 1_000) setTimeout(look, 1);
  };
  look();
}

process.on("SIGUSR1", closeInspector);
