import { writeSync } from "node:fs";

/** Structured logging: one JSON object per line (or a readable line on a TTY). Never pass secrets. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * Writes each line to stderr with its own system call. A broken pipe or a full disk throws here
 * (SIGPIPE is ignored): the line is dropped and reported to `onDrop`, never left to an error
 * event that would stop the process; the next line tries again (a disk may free up).
 */
export function stderrLines(onDrop: () => void = () => undefined): (line: string) => void {
  return (line) => {
    const bytes = Buffer.from(`${line}\n`);
    try {
      // A pipe or file may take part of a long line; bounded, since each write moves on or throws.
      for (let at = 0, tries = 0; at < bytes.length && tries < 100; tries++) {
        at += writeSync(2, bytes, at);
      }
    } catch {
      onDrop();
    }
  };
}

export function createLogger(
  level: LogLevel,
  format: "json" | "pretty",
  write: (line: string) => void = stderrLines(),
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    const time = new Date().toISOString();
    if (format === "json") {
      write(JSON.stringify({ time, level: lvl, msg, ...fields }));
      return;
    }
    const rest = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    write(`${time} ${lvl.toUpperCase().padEnd(5)} ${msg}${rest ? ` ${rest}` : ""}`);
  };
  return {
    enabled: (lvl) => RANK[lvl] >= RANK[level],
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
