/**
 * The command's one way to bound how long anything is awaited.
 *
 * @module
 */

/**
 * Settles like `op`, or, when it has not settled within `ms`, rejects with
 * an error "`what` within `ms` ms" (with `onTimeout`: resolves with its
 * value instead).
 *
 * @param op What to wait for.
 * @param ms How long to wait for it.
 * @param what What did not happen in time, for the error.
 * @param onTimeout The value to resolve with instead of rejecting.
 * @returns `op`'s value, or `onTimeout`'s.
 *
 * @example
 * ```ts
 * import { within } from "./timers.ts";
 *
 * const late = new Promise<string>((resolve) => setTimeout(resolve, 50, "late"));
 * console.log(await within(late, 10, "the answer", () => "gave up")); // "gave up"
 * ```
 */
export function within<T, U = never>(
  op: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      if (onTimeout) resolve(onTimeout());
      else reject(new Error(`${what} within ${ms} ms`));
    }, ms);
  });
  return Promise.race([op, late]).finally(() => clearTimeout(timer));
}
