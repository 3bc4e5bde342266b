/**
 * The core's logging hook. It costs nothing until the CLI routes it to
 * logtape (only with `--debug` or when reporting an error), so verbs that do
 * not log never load a logger.
 *
 * @module
 */

/** Levels the core uses. */
export type Level = "debug" | "info" | "warn" | "error";

type LogSink = (level: Level, message: string) => void;

let sink: LogSink | undefined;

/**
 * Routes log records somewhere (the CLI passes logtape).
 *
 * @param next The sink, or undefined to drop records.
 */
export function setLogSink(next: LogSink | undefined): void {
  sink = next;
}

/**
 * Logs a debug record, if anyone listens.
 *
 * @param message The text.
 */
export function debug(message: string): void {
  sink?.("debug", message);
}

/**
 * Logs a warning, if anyone listens.
 *
 * @param message The text.
 */
export function warn(message: string): void {
  sink?.("warn", message);
}
