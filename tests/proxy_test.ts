import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { startProxy, type TcpProxy } from "./harness/proxy.ts";

/** Starts a TCP echo server on a free port; `close()` destroys its sockets and awaits the close. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const socketsClosed = [...sockets].map((s) => closeSocket(s));
      await Promise.all([closed, ...socketsClosed]);
    },
  };
}

/** Destroys `s` and resolves on its 'close' event (at once if it already closed). */
function closeSocket(s: net.Socket): Promise<void> {
  if (s.closed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once("close", () => resolve());
    s.destroy();
  });
}

/** Connects a client to the proxy; `received()` is everything it has read so far. */
async function connect(proxy: TcpProxy): Promise<{ socket: net.Socket; received(): string }> {
  const socket = net.connect(proxy.port, "127.0.0.1");
  socket.on("error", () => {});
  let data = "";
  socket.on("data", (chunk: Uint8Array) => data += new TextDecoder().decode(chunk));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, received: () => data };
}

/** Resolves once `cond()` holds, polling every 5ms; rejects after `ms`. */
async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("waitFor: timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with an echo server, a proxy in front of it and a connected client; cleans up all. */
async function withProxy(
  fn: (proxy: TcpProxy, client: Awaited<ReturnType<typeof connect>>) => Promise<void>,
): Promise<void> {
  const echo = await startEcho();
  const proxy = await startProxy(echo.port);
  const client = await connect(proxy);
  try {
    await fn(proxy, client);
  } finally {
    await closeSocket(client.socket);
    await proxy.close();
    await echo.close();
  }
}

test("proxy: bytes pass through both ways", async () => {
  await withProxy(async (proxy, client) => {
    assert.equal(proxy.url, `redis://127.0.0.1:${proxy.port}`);
    client.socket.write("hello");
    await waitFor(() => client.received() === "hello");
    await waitFor(() => proxy.connections === 1);
    client.socket.write(" world");
    await waitFor(() => client.received() === "hello world");
  });
});

test("proxy: cut() closes the client socket and still accepts new connections", async () => {
  await withProxy(async (proxy, client) => {
    await waitFor(() => proxy.connections === 1);
    const closed = new Promise<void>((resolve) => client.socket.once("close", () => resolve()));
    proxy.cut();
    assert.equal(proxy.connections, 0);
    await closed;
    const again = await connect(proxy);
    try {
      again.socket.write("ping");
      await waitFor(() => again.received() === "ping");
    } finally {
      await closeSocket(again.socket);
    }
  });
});

test("proxy: stall() holds bytes and resume() delivers them", async () => {
  await withProxy(async (proxy, client) => {
    client.socket.write("a");
    await waitFor(() => client.received() === "a");
    proxy.stall();
    client.socket.write("b");
    const late = await connect(proxy); // new connections are stalled too
    try {
      late.socket.write("c");
      await sleep(100);
      assert.equal(client.received(), "a");
      assert.equal(late.received(), "");
      assert.ok(!client.socket.destroyed && !late.socket.destroyed);
      proxy.resume();
      await waitFor(() => client.received() === "ab" && late.received() === "c");
    } finally {
      await closeSocket(late.socket);
    }
  });
});

test("proxy: setDelay(100) delays a round trip", async () => {
  await withProxy(async (proxy, client) => {
    proxy.setDelay(100);
    const start = Date.now();
    client.socket.write("x");
    client.socket.write("y");
    await waitFor(() => client.received() === "xy");
    assert.ok(Date.now() - start >= 90, `round trip took ${Date.now() - start}ms`);
    proxy.setDelay(0);
    const t0 = Date.now();
    client.socket.write("z");
    await waitFor(() => client.received() === "xyz");
    assert.ok(Date.now() - t0 < 1000);
  });
});

test("proxy: close() leaves no connections and is idempotent", async () => {
  const echo = await startEcho();
  const proxy = await startProxy(echo.port);
  const client = await connect(proxy);
  const closed = new Promise<void>((resolve) => client.socket.once("close", () => resolve()));
  try {
    proxy.setDelay(50);
    client.socket.write("pending"); // a delay timer is pending when close() runs
    await waitFor(() => proxy.connections === 1);
    await proxy.close();
    await proxy.close();
    assert.equal(proxy.connections, 0);
    await closed;
  } finally {
    await closeSocket(client.socket);
    await echo.close();
  }
});
