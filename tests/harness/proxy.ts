/**
 * A small TCP proxy for fault-injection tests, built only on `node:net` so it runs the same on
 * Deno, Bun and Node. It sits between a client and a server and can cut, stall or delay traffic.
 *
 * @module
 */
import * as net from "node:net";

/** A running proxy; see {@link startProxy}. */
export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** `redis://127.0.0.1:${port}`. */
  readonly url: string;
  /** Destroys every current client<->server connection pair; new connections are still accepted. */
  cut(): void;
  /** Stops forwarding in both directions on current and new connections; data is held, not dropped. */
  stall(): void;
  /** Undoes {@link TcpProxy.stall}: forwards the held bytes and continues. */
  resume(): void;
  /** Delays every chunk in both directions by `ms` (0 = none), preserving order per direction. */
  setDelay(ms: number): void;
  /** The number of live connection pairs. */
  readonly connections: number;
  /** How many connections it has accepted so far. */
  readonly accepted: number;
  /** Stops listening and destroys all connections; resolves once all is closed. Idempotent. */
  close(): Promise<void>;
}

/** One direction of a pair: chunks read from `src` wait in `queue` until written to `dst`. */
interface Pipe {
  src: net.Socket;
  dst: net.Socket;
  /** Pending chunks with their arrival time; `null` data marks the end of the stream. */
  queue: { data: Uint8Array | null; at: number }[];
  eof: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/** Starts a proxy on a free 127.0.0.1 port that forwards to `targetHost:targetPort`. */
export function startProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<Pipe[]>(); // live pairs: [client->server, server->client]
  const sockets = new Set<net.Socket>(); // every socket not yet closed
  let stalled = false;
  let delay = 0;
  let closing: Promise<void> | undefined;

  const clear = (p: Pipe) => {
    clearTimeout(p.timer);
    p.timer = undefined;
  };
  const pump = (p: Pipe): void => {
    clear(p);
    while (!stalled && p.queue.length > 0) {
      const wait = p.queue[0].at + delay - Date.now();
      if (wait > 0) {
        p.timer = setTimeout(() => pump(p), wait);
        return;
      }
      const { data } = p.queue.shift()!;
      if (!p.dst.writable) continue;
      if (data === null) p.dst.end();
      else p.dst.write(data);
    }
  };
  const pipe = (src: net.Socket, dst: net.Socket): Pipe => {
    const p: Pipe = { src, dst, queue: [], eof: false };
    const push = (data: Uint8Array | null) => {
      if (p.eof) return;
      p.eof = data === null;
      p.queue.push({ data, at: Date.now() });
      pump(p);
    };
    src.on("data", (chunk: Uint8Array) => push(chunk));
    src.on("end", () => push(null));
    src.on("close", () => push(null));
    return p;
  };
  const kill = (pair: Pipe[]) => {
    pairs.delete(pair);
    for (const p of pair) {
      clear(p);
      p.src.destroy();
    }
  };

  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    const pair = [pipe(client, upstream), pipe(upstream, client)];
    pairs.add(pair);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {}); // ECONNRESET, EPIPE, ECONNREFUSED...: the 'close' handler cleans up
      s.on("close", () => {
        sockets.delete(s);
        if (client.destroyed && upstream.destroyed) kill(pair);
      });
    }
    if (closing) kill(pair);
  });
  server.on("error", () => {});

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        url: `redis://127.0.0.1:${port}`,
        get connections() {
          return pairs.size;
        },
        get accepted() {
          return accepted;
        },
        cut: () => pairs.forEach(kill),
        stall: () => {
          stalled = true;
          pairs.forEach((pair) => pair.forEach(clear));
        },
        resume: () => {
          stalled = false;
          pairs.forEach((pair) => pair.forEach(pump));
        },
        setDelay: (ms: number) => {
          delay = Math.max(0, ms);
          pairs.forEach((pair) => pair.forEach(pump));
        },
        close: () => {
          closing ??= (async () => {
            const serverClosed = new Promise<void>((done) => server.close(() => done()));
            const socketsClosed = [...sockets].map((s) =>
              new Promise<void>((done) => s.once("close", () => done()))
            );
            pairs.forEach(kill);
            await Promise.all([serverClosed, ...socketsClosed]);
          })();
          return closing;
        },
      });
    });
  });
}
