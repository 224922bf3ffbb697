/**
 * Who this process is, as a holder's record in Redis shows it: the host
 * name, the process id and the runtime with its version. Computed once per
 * process, on first use, and never at the price of a permission: on Deno the
 * host name is read only when the `sys` permission for it is already
 * granted (it is never requested, so there is no prompt, warning or error);
 * where there is no host name to read (Deno Deploy, edge runtimes, a
 * browser) it is left out.
 *
 * @module
 */

/** What a process records about itself (any field may be missing). */
export interface ProcessIdentity {
  readonly host?: string;
  readonly pid?: number;
  readonly runtime?: string;
}

interface DenoLike {
  readonly pid?: number;
  readonly version?: { readonly deno?: string };
  hostname?(): string;
  readonly permissions?: {
    querySync?(d: { name: "sys"; kind: "hostname" }): { state: string };
  };
}

interface ProcessLike {
  readonly pid?: number;
  readonly versions?: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

function denoIdentity(deno: DenoLike): ProcessIdentity {
  let host: string | undefined;
  try {
    const state = deno.permissions?.querySync?.({ name: "sys", kind: "hostname" }).state;
    if (state === "granted") host = deno.hostname?.();
  } catch {
    // No permission API or no host name (Deno Deploy): leave it out.
  }
  const version = deno.version?.deno;
  return tidy({ host, pid: deno.pid, runtime: version ? `deno ${version}` : "deno" });
}

function nodeIdentity(proc: ProcessLike): ProcessIdentity {
  let host: string | undefined;
  try {
    // `node:os` without a static import, so that the library still loads
    // where there is none (Node 20.16+, 22.3+ and Bun have getBuiltinModule).
    const os = proc.getBuiltinModule?.("node:os") as { hostname?(): string } | undefined;
    host = os?.hostname?.();
  } catch {
    // No host name here: leave it out.
  }
  const bun = proc.versions?.bun;
  const node = proc.versions?.node;
  const runtime = bun ? `bun ${bun}` : node ? `node ${node}` : undefined;
  return tidy({ host, pid: proc.pid, runtime });
}

function tidy(identity: ProcessIdentity): ProcessIdentity {
  const out: { host?: string; pid?: number; runtime?: string } = {};
  if (typeof identity.host === "string" && identity.host !== "") out.host = identity.host;
  if (typeof identity.pid === "number" && Number.isInteger(identity.pid)) out.pid = identity.pid;
  if (identity.runtime) out.runtime = identity.runtime;
  return out;
}

function readIdentity(): ProcessIdentity {
  const g = globalThis as { Deno?: DenoLike; process?: ProcessLike; Bun?: unknown };
  // Bun and Node have `process`; Deno has `Deno` (and a `process` too when a
  // module imported node:process, so Deno is checked first).
  if (g.Deno && !g.Bun) return denoIdentity(g.Deno);
  if (g.process) return nodeIdentity(g.process);
  return {};
}

let cached: ProcessIdentity | undefined;

/** This process's identity (computed on the first call). */
export function processIdentity(): ProcessIdentity {
  return cached ??= readIdentity();
}

/**
 * The identity a holder carries in its token (see `lib/redis/_token.ts`):
 * `<pid>,<host>,<runtime>[,<label>]`, each part URI-encoded (so it holds no
 * `,`, space, `@` or `#`) and empty where unknown; the label
 * part only when there is a label.
 */
export function identityTag(label: string | undefined): string {
  const { pid, host, runtime } = processIdentity();
  const parts = [pid === undefined ? "" : `${pid}`, host ?? "", runtime ?? ""];
  if (label !== undefined) parts.push(label);
  return parts.map((part) => encodeURIComponent(wellFormed(part))).join(",");
}

// A lone surrogate (a label cut inside an emoji, say) becomes U+FFFD, as
// `String.prototype.toWellFormed` does: encodeURIComponent would throw.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** What {@linkcode identityTag} encoded (fields that were empty are left out). */
export function readIdentityTag(tag: string): ProcessIdentity & { label?: string } {
  const [pid, host, runtime, label] = tag.split(",").map(decode);
  const identity = tidy({ host, pid: pid ? Number(pid) : undefined, runtime });
  return label === undefined ? identity : { ...identity, label };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // not ours: shown as it is
  }
}
