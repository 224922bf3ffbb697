/**
 * Test harness: throwaway `redis-server` processes on free loopback ports,
 * stopped by the test that starts them. Never touches the shared server.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running throwaway redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The server's working directory (removed by stop()). */
  readonly dir: string;
  /** Runs one command over a fresh connection and returns the parsed reply. */
  command(...args: string[]): Promise<Reply>;
  /** SIGSTOP / SIGCONT the server process. */
  pause(): void;
  resume(): void;
  /** Stops the server (SIGKILL unless graceful) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Starts redis-server on `port` with `extra` arguments; resolves once it accepts connections. */
export async function launch(
  port: number,
  dir: string,
  extra: string[],
  tries = 200,
): Promise<ChildProcess> {
  const args = ["--port", `${port}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", [...args, "--dir", dir, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => output += chunk);
  child.stderr!.resume();
  const exited = once(child, "exit");
  for (let i = 0; i < tries && !output.includes("Ready to accept connections"); i++) {
    const ready = await Promise.race([
      new Promise((resolve) => setTimeout(resolve, 25, "wait")),
      exited.then(() => "exited"),
    ]);
    if (ready === "exited") throw new Error(`redis-server exited on port ${port}:\n${output}`);
  }
  if (!output.includes("Ready to accept connections")) {
    child.kill("SIGKILL");
    throw new Error(`redis-server did not start on port ${port}:\n${output}`);
  }
  child.stdout!.removeAllListeners("data");
  child.stdout!.resume();
  return child;
}

/**
 * Signals `child` by pid: Deno's `ChildProcess.kill()` ignores every call
 * after the first, so a SIGCONT (or SIGKILL) after a SIGSTOP would be lost.
 */
function signal(child: ChildProcess, name: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // it exited meanwhile
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  signal(child, "SIGKILL");
  await exited;
}

/**
 * A free port can be taken by a parallel test before redis-server binds it:
 * then it exits with "Address already in use" and another port is tried.
 */
async function launchOnFreePort(dir: string, extra: string[]): Promise<[number, ChildProcess]> {
  for (let tries = 0;; tries++) {
    const port = await freePort();
    try {
      return [port, await launch(port, dir, extra)];
    } catch (err) {
      if (tries >= 5 || !String(err).includes("already in use")) throw err;
    }
  }
}

/** Starts a redis-server on a free port; `extra` are more server arguments. */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "redis-lock-test-"));
  const [port, first] = await launchOnFreePort(dir, extra);
  let child = first;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => rawCommand(port, args),
    dir,
    pause: () => signal(child, "SIGSTOP"),
    resume: () => signal(child, "SIGCONT"),
    async restart() {
      await stopChild(child);
      child = await launch(port, dir, extra);
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function encode(args: string[]): string {
  const parts = args.map((a) => `$${new TextEncoder().encode(a).length}\r\n${a}\r\n`);
  return `*${args.length}\r\n${parts.join("")}`;
}

/** A parsed RESP2 reply. */
export type Reply = string | number | null | Reply[];

function parse(text: string, at = 0): [Reply, number] {
  const end = text.indexOf("\r\n", at);
  const head = text.slice(at + 1, end);
  switch (text[at]) {
    case "+":
      return [head, end + 2];
    case "-":
      throw new Error(head);
    case ":":
      return [Number(head), end + 2];
    case "$": {
      const len = Number(head);
      if (len < 0) return [null, end + 2];
      const bytes = new TextEncoder().encode(text.slice(end + 2));
      const value = new TextDecoder().decode(bytes.slice(0, len));
      return [value, end + 2 + value.length + 2];
    }
    case "*": {
      const items: Reply[] = [];
      let next = end + 2;
      for (let i = 0; i < Number(head); i++) {
        const [item, after] = parse(text, next);
        items.push(item);
        next = after;
      }
      return [Number(head) < 0 ? null : items, next];
    }
  }
  throw new Error(`cannot parse reply: ${JSON.stringify(text.slice(at, at + 40))}`);
}

/** One command over a fresh RESP2 connection, reply parsed. */
export async function rawCommand(port: number, args: string[]): Promise<Reply> {
  const socket = new Socket();
  socket.setEncoding("utf8");
  socket.connect(port, "127.0.0.1");
  await once(socket, "connect");
  let reply = "";
  socket.on("data", (chunk: string) => reply += chunk);
  socket.end(encode(args) + encode(["QUIT"]));
  await once(socket, "close");
  return parse(reply)[0];
}
