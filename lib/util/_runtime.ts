/**
 * The few places where Deno, Bun and Node differ, kept in one module.
 * The rest of the library uses Web APIs only.
 *
 * @module
 */

type TimerHandle = ReturnType<typeof setTimeout>;

/**
 * Lets a timer not keep the process alive on its own: `.unref()` on Node and
 * Bun, `Deno.unrefTimer(id)` on Deno.
 */
export function unrefTimer(timer: TimerHandle): TimerHandle {
  if (typeof timer === "number") {
    const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
    deno?.unrefTimer?.(timer);
  } else {
    (timer as { unref?(): void }).unref?.();
  }
  return timer;
}

/** Undoes {@linkcode unrefTimer}: the timer keeps the process alive again. */
export function refTimer(timer: TimerHandle): TimerHandle {
  if (typeof timer === "number") {
    const deno = (globalThis as { Deno?: { refTimer?(id: number): void } }).Deno;
    deno?.refTimer?.(timer);
  } else {
    (timer as { ref?(): void }).ref?.();
  }
  return timer;
}

/** A fresh, unguessable token for one acquisition (122 random bits). */
export function newToken(): string {
  return crypto.randomUUID();
}

/** Milliseconds from a monotonic clock, for local deadlines. */
export function now(): number {
  return performance.now();
}

/** Hex SHA-1 of a string, as Redis names scripts for EVALSHA. */
export async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
