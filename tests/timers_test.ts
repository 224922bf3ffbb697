// The timer queue the hot path schedules its rarely firing timers on
// (a lease's renewal and deadline, an attempt's bound, a waiter's sleep).
import { test } from "node:test";
import assert from "node:assert/strict";
import { TimerQueue } from "../lib/util/_timers.ts";
import { startChild } from "./harness/process.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a timer queue runs each call once, at or after its time, in time order", async () => {
  const queue = new TimerQueue(true);
  const ran: Array<[string, number]> = [];
  const start = performance.now();
  for (const [name, ms] of [["c", 60], ["a", 20], ["b", 40]] as const) {
    queue.schedule(start + ms, () => ran.push([name, performance.now() - start]));
  }
  await delay(150);
  assert.deepEqual(ran.map(([name]) => name), ["a", "b", "c"]);
  for (const [name, at] of ran) {
    const due = { a: 20, b: 40, c: 60 }[name]!;
    assert.ok(at >= due - 1, `${name} ran at ${at.toFixed(1)} ms, due at ${due}`);
  }
});

test("a cancelled call never runs, and a sooner call re-arms the queue", async () => {
  const queue = new TimerQueue(true);
  const ran: string[] = [];
  const start = performance.now();
  const late = queue.schedule(start + 200, () => ran.push("late"));
  const early = queue.schedule(start + 10, () => ran.push("early"));
  queue.schedule(start + 30, () => ran.push("kept"));
  queue.cancel(late);
  queue.cancel(early);
  queue.cancel(early); // twice: nothing happens
  await delay(60);
  assert.deepEqual(ran, ["kept"]);
  await delay(200);
  assert.deepEqual(ran, ["kept"], "the cancelled calls stay cancelled");
});

test("a call scheduled by a running call runs too", async () => {
  const queue = new TimerQueue(false);
  const ran: string[] = [];
  const start = performance.now();
  queue.schedule(start + 5, () => {
    ran.push("first");
    queue.schedule(performance.now() + 5, () => ran.push("second"));
  });
  await delay(80);
  assert.deepEqual(ran, ["first", "second"]);
});

test("a keep-alive queue keeps the process alive while a call is pending, an unref'd one does not", async () => {
  for (const keepAlive of [true, false]) {
    const child = startChild("fixtures/timer_queue.ts", [keepAlive ? "1" : "0"]);
    const started = performance.now();
    const code = await child.exited;
    const took = performance.now() - started;
    assert.equal(code, 0);
    assert.equal(
      child.output().includes("ran"),
      keepAlive,
      `keepAlive ${keepAlive}: ${child.output()}`,
    );
    assert.ok(!child.output().includes("cancelled ran"));
    assert.ok(took < 4_000, `exited after ${took.toFixed(0)} ms: a cancelled call holds nothing`);
  }
});
