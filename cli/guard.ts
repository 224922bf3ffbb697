/**
 * Imported first by `cli/mod.ts`: keeps SIGUSR1 from opening a debugger in
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

/**
 * Closes the inspector Deno opens on this SIGUSR1, looking every
 * millisecond for up to a second. Without `--allow-sys` Deno does not tell
 * whether one is open; close() needs no permission, so it is then called
 * blindly for that second.
 */
function closeInspector(): void {
  if (!inspector) return;
  const started = performance.now();
  const look = () => {
    let open = true;
    try {
      open = inspector!.url() !== undefined;
    } catch {
      // not allowed to ask (no --allow-sys): close anyway
    }
    try {
      if (open) inspector!.close();
    } catch {
      return; // nothing more can be done
    }
    if (performance.now() - started < 1_000) setTimeout(look, 1);
  };
  look();
}

process.on("SIGUSR1", closeInspector);
