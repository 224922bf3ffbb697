import { test } from "node:test";
import assert from "node:assert/strict";
import { isTransientError, scriptCommands } from "../lib/clients/_adapter.ts";

test("a dropped connection is transient while the client is open, final once it is closed", () => {
  for (
    const message of ["Socket closed unexpectedly", "Connection is closed.", "read ECONNRESET"]
  ) {
    assert.equal(isTransientError(new Error(message), true), true, message);
    assert.equal(isTransientError(new Error(message), false), false, message);
  }
});

test("Redis's 'not now' replies are transient, every other error reply is final", () => {
  for (
    const message of ["LOADING Redis is loading", "BUSY script", "TRYAGAIN", "READONLY replica"]
  ) {
    assert.equal(isTransientError(new Error(message), false), true, message);
  }
  for (const message of ["ERR unknown command", "NOPERM no", "WRONGTYPE Operation", "NOSCRIPT x"]) {
    assert.equal(isTransientError(new Error(message), true), false, message);
  }
});

test("bugs and non-errors are never retried", () => {
  for (const err of [new TypeError("t"), new RangeError("r"), "text"]) {
    assert.equal(isTransientError(err, true), false, String(err));
  }
});

test("scriptCommands sends EVALSHA and EVAL with the key count before keys and arguments", async () => {
  const sent: string[][] = [];
  const commands = scriptCommands((args) => {
    sent.push(args);
    return Promise.resolve(1);
  });
  await commands.evalsha("abc", ["k1", "k2"], ["a"]);
  await commands.eval("return 1", [], []);
  assert.deepEqual(sent, [["EVALSHA", "abc", "2", "k1", "k2", "a"], ["EVAL", "return 1", "0"]]);
});
