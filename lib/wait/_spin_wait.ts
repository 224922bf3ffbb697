/**
 * The polling wait of `RedisSpinLock`: attempt, sleep, attempt again, with a
 * last attempt at the deadline.
 *
 * @module
 */

import type { AttemptResult } from "../redis/_lock_ops.ts";
import { now } from "../util/_runtime.ts";
import type { WaitRequest } from "./_request.ts";
import { Waiter } from "./_waiter.ts";

/** Attempts every `poll` ms until taken or the deadline (one last attempt then). */
export async function waitBySpinning(request: WaitRequest, poll: number): Promise<AttemptResult> {
  const pause = new Waiter();
  for (;;) {
    const result = await request.attempt();
    const left = request.deadline - now();
    if (result.acquired || left <= 0) return result;
    await pause.sleep(Math.min(poll, left), request.signal);
  }
}
