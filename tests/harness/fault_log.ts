/**
 * The exclusion checker for multi-process runs (tests/fault_test.ts and
 * tests/soak.ts). Workers append one line per event to a shared file, and
 * the controller appends its faults; appends are atomic, so the file's order
 * is the true order of events. Lines (times are `performance.timeOrigin +
 * performance.now()`, in ms):
 *
 * - `enter <token> <t> <pid>`: a holder starts its critical section; it also
 *   writes its token to the fenced storage (a holder's first write);
 * - `write <token> <t> <pid> <aborted 0|1>`: a write to the fenced storage,
 *   and whether the holder's `lock.signal` had aborted by then;
 * - `exit <token> <t> <pid>`: the section ends (before the release is sent);
 * - `wait 0 <t> <pid>`: the worker calls `acquire()`;
 * - `unbacked <token> <t> <pid>`: `acquire()` resolved true, but Redis then
 *   said the key was not this acquisition's while its lease was still live by
 *   the worker's clock (see tests/fixtures/fault_worker.ts): a lock Redis did
 *   not back, whatever the timing, so always a violation, and so is every
 *   overlap of its section (no pause explains it: it never had a lease);
 * - `kill <pid> <t>`: SIGKILL, stamped just before it was sent (so a holder
 *   whose `exit` follows it was still alive, and left its section itself);
 * - `stop <pid> <t>` and `cont <pid> <t>`: SIGSTOP and SIGCONT.
 *
 * Two sections overlap when one enters while the other has not exited: with
 * the holder still live, that breaks exclusion. An overlap is explained, and
 * is what fencing is for, only when the older holder was killed or stopped
 * long enough before the newer one entered that its lease may have run out:
 * a renewing holder has at least 2/3 of its lease left at any moment (the
 * lease is ttl, or handoffTimeout when shorter until a fair hand-off's first
 * renewal).
 */

/** One event of the log. */
export interface Event {
  readonly kind: "wait" | "enter" | "write" | "exit" | "unbacked" | "kill" | "stop" | "cont";
  /** The fencing token (0 for the controller's lines). */
  readonly token: number;
  readonly t: number;
  readonly pid: number;
  /** For `write`: whether the holder's signal had aborted. */
  readonly aborted: boolean;
}

/** What the checker found. */
export interface Report {
  /** Sections entered (acquisitions that got as far as writing). */
  readonly acquisitions: number;
  readonly kills: number;
  /** Kills that hit a holder inside its critical section. */
  readonly holdersKilled: number;
  /** Stops that hit a holder inside its critical section. */
  readonly holdersPaused: number;
  readonly pauses: number;
  /** Pairs of overlapping sections whose older holder's lease may have run out (killed or stopped). */
  readonly explainedOverlaps: number;
  /** Distinct holders overlapped by newer ones after their lease may have run out. */
  readonly staleHolders: number;
  /** Every violation found, described: must be none. */
  readonly violations: readonly string[];
  /**
   * Of those, overlaps between holders whose leases were both live (or
   * whose older holder's acquisition Redis did not back).
   */
  readonly liveOverlaps: number;
  /** Of those, acquisitions that Redis did not back (`unbacked` lines). */
  readonly unbacked: number;
  /** Tokens grow with the order of entry, except for stale holders' late entries. */
  readonly tokensMonotonic: boolean;
  /** Writes made after a newer holder had entered, all rejected by the fenced storage. */
  readonly staleWritesRejected: number;
  /** Of those, written after the holder's own signal had aborted. */
  readonly staleWritesSignalled: number;
  /** Writes of the newest holder rejected by the storage: must be none. */
  readonly currentWritesRejected: number;
  readonly writes: number;
  /** After a killed holder, the longest time until the next entry (ms). */
  readonly longestWaitAfterKill: number;
}

/** Parses the log written by the workers and the controller. */
export function parseLog(text: string): Event[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [kind, a, b, c, d] = line.trim().split(" ");
    if (kind === "kill" || kind === "stop" || kind === "cont") {
      return { kind, token: 0, pid: Number(a), t: Number(b), aborted: false };
    }
    if (!["wait", "enter", "write", "exit", "unbacked"].includes(kind)) {
      throw new Error(`bad log line: ${JSON.stringify(line)}`);
    }
    const worker = kind as "wait" | "enter" | "write" | "exit" | "unbacked";
    return { kind: worker, token: Number(a), t: Number(b), pid: Number(c), aborted: d === "1" };
  });
}

interface Section {
  readonly token: number;
  readonly pid: number;
  readonly enter: number;
  /** The holder's previous line: a fault after it happened during this acquisition. */
  readonly since: number;
  exited: boolean;
}

interface Fault {
  readonly from: number;
  to: number;
}

/** Options of {@linkcode checkLog}. */
export interface CheckOptions {
  /** The lease length every worker used (ms). */
  readonly ttl: number;
  /** The workers' handoffTimeout (ms), when shorter than the ttl. @default {ttl} */
  readonly handoffTimeout?: number;
  /** Allowance for late renewal timers and timestamps across processes (ms). */
  readonly slack?: number;
}

/** Checks exclusion and fencing over a whole run; see the module doc. */
export function checkLog(events: readonly Event[], options: CheckOptions): Report {
  const lease = Math.min(options.ttl, options.handoffTimeout ?? options.ttl);
  const minLease = (lease * 2) / 3 - (options.slack ?? 100);
  const faults = new Map<number, Fault[]>(); // pid -> when it was stopped or killed
  const last = new Map<number, number>(); // pid -> time of its latest line
  const open = new Map<number, Section>(); // token -> section not exited
  const seen = new Set<number>();
  const staleHolders = new Set<number>();
  const violations: string[] = [];
  let killed: { section: Section; at: number }[] = [];
  let newest: Section | undefined;
  let storage = -Infinity;
  let explained = 0, monotonic = true, writes = 0, stale = 0, signalled = 0;
  let currentRejected = 0, longestWait = 0, holdersKilled = 0, holdersPaused = 0;
  let liveOverlaps = 0, unbacked = 0;
  const waiting = new Map<number, number>(); // pid -> when its acquire() began

  /** Whether `holder` was stopped or killed long enough before `t` for its lease to run out. */
  const mayHaveRunOut = (holder: Section, t: number): boolean =>
    (faults.get(holder.pid) ?? []).some((f) =>
      f.from > holder.since && f.to - f.from >= minLease && t >= f.from + minLease
    );
  const unbackedTokens = new Set<number>();
  const overlap = (older: Section, newer: Section) => {
    if (unbackedTokens.has(older.token)) {
      liveOverlaps++;
      violations.push(
        `token ${older.token} (pid ${older.pid}, entered ${older.enter.toFixed(1)}), which ` +
          `Redis did not back, overlapped token ${newer.token} (pid ${newer.pid})`,
      );
    } else if (mayHaveRunOut(older, newer.enter)) {
      explained++;
      staleHolders.add(older.token);
    } else {
      liveOverlaps++;
      violations.push(
        `token ${newer.token} (pid ${newer.pid}) entered at ${newer.enter.toFixed(1)} while ` +
          `token ${older.token} (pid ${older.pid}, entered ${older.enter.toFixed(1)}) was live`,
      );
    }
  };
  const fenced = (e: Event) => {
    writes++;
    const isStale = newest !== undefined && newest.token > e.token;
    const accepted = e.token >= storage;
    if (accepted) storage = e.token;
    if (!isStale) {
      if (!accepted) currentRejected++;
      return;
    }
    stale++;
    if (e.aborted) signalled++;
    if (accepted) violations.push(`a stale write of token ${e.token} was accepted`);
  };
  const enter = (e: Event) => {
    if (seen.has(e.token)) violations.push(`token ${e.token} was handed out twice`);
    seen.add(e.token);
    const section = {
      token: e.token,
      pid: e.pid,
      enter: e.t,
      since: last.get(e.pid) ?? -Infinity,
      exited: false,
    };
    for (const { section: dead, at } of killed) {
      // From the kill, or from when this worker began to wait if later (a
      // replacement process, or one that had finished its sections).
      longestWait = Math.max(longestWait, e.t - Math.max(at, waiting.get(e.pid) ?? at));
      // A holder stopped long enough before its kill had lost its lease then.
      if (e.t < at + minLease && !mayHaveRunOut(dead, e.t)) {
        violations.push(
          `token ${e.token} entered ${(e.t - at).toFixed(1)} ms after the holder of token ` +
            `${dead.token} was killed, before its lease can have run out`,
        );
      }
    }
    killed = [];
    for (const other of open.values()) {
      if (other.token < section.token) overlap(other, section);
      else overlap(section, other); // this holder entered late: it is the stale one
    }
    if (newest && newest.token > section.token) {
      // A stale holder entering late overlapped its successor, even one already gone.
      if (newest.exited) overlap(section, newest);
      monotonic &&= mayHaveRunOut(section, newest.enter);
    } else newest = section;
    open.set(e.token, section);
    fenced(e);
  };

  for (const e of events) {
    if (e.kind === "stop" || e.kind === "kill") {
      faults.set(e.pid, [...(faults.get(e.pid) ?? []), { from: e.t, to: Infinity }]);
    }
    if (e.kind === "stop" && [...open.values()].some((s) => s.pid === e.pid)) holdersPaused++;
    if (e.kind === "cont") {
      const pause = faults.get(e.pid)?.at(-1);
      if (pause) pause.to = e.t;
    } else if (e.kind === "kill") {
      // A killed holder's section never exits: it ends with the process.
      for (const [token, section] of open) {
        if (section.pid !== e.pid) continue;
        open.delete(token);
        killed.push({ section, at: e.t });
        holdersKilled++;
      }
    } else if (e.kind === "wait") waiting.set(e.pid, e.t);
    else if (e.kind === "unbacked") {
      unbacked++;
      unbackedTokens.add(e.token);
      violations.push(
        `acquire() gave token ${e.token} (pid ${e.pid}) at ${e.t.toFixed(1)} a lock that Redis ` +
          `did not back: the key was not its own while its lease was live by its clock`,
      );
    } else if (e.kind === "enter") enter(e);
    else if (e.kind === "write") fenced(e);
    else if (e.kind === "exit") {
      const section = open.get(e.token);
      if (section) section.exited = true;
      open.delete(e.token);
      // The "kill" line is written just before the signal is sent: a holder
      // still logging after it was alive then, and left its section itself.
      const late = killed.findIndex((k) => k.section.token === e.token);
      if (late >= 0) {
        killed.splice(late, 1);
        holdersKilled--;
      }
    }
    if (e.kind === "enter" || e.kind === "write" || e.kind === "exit") last.set(e.pid, e.t);
  }
  return {
    acquisitions: seen.size,
    kills: events.filter((e) => e.kind === "kill").length,
    holdersKilled,
    holdersPaused,
    pauses: events.filter((e) => e.kind === "stop").length,
    explainedOverlaps: explained,
    staleHolders: staleHolders.size,
    violations,
    liveOverlaps,
    unbacked,
    tokensMonotonic: monotonic && !violations.some((v) => v.includes("twice")),
    staleWritesRejected: stale - violations.filter((v) => v.startsWith("a stale")).length,
    staleWritesSignalled: signalled,
    currentWritesRejected: currentRejected,
    writes,
    longestWaitAfterKill: longestWait,
  };
}
