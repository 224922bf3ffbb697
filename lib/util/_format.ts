/** Formatting helpers for error messages. @module */

/** A lock name, escaped and cut to a readable length for messages. */
export function shortName(name: string): string {
  const printable = JSON.stringify(name).slice(1, -1);
  return printable.length > 80 ? `${printable.slice(0, 77)}...` : printable;
}

/** A value as an argument error shows it: strings quoted, objects by kind. */
export function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(shortName(value));
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object" && typeof value !== "function") {
    return String(value);
  }
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== "Object" ? `a ${ctor}` : "an object";
}
