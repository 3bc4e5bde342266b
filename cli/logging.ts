/**
 * Logging for the CLI, with logtape. Loaded only when something is logged
 * (an error, or `--debug`), so a quiet `state` does not pay for it.
 *
 * `--log FILE --log-format json` writes one JSON line per record,
 * `{"level":"error","msg":"...","time":"..."}`, which is what podman and
 * containerd read back; `text` writes logrus-style lines as runc does.
 *
 * @module
 */
import {
  configure,
  getLogger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { setLogSink } from "../core/util/log.ts";

/** Where and how to log. */
export interface LogOptions {
  /** `--log`: file to append to; stderr when absent (debug only). */
  file?: string | undefined;
  /** `--log-format`. */
  format: "text" | "json";
  /** `--debug`: also log debug records. */
  debug: boolean;
}

function formatLine(record: LogRecord, format: "text" | "json"): string {
  const msg = record.message.map(String).join("");
  const time = new Date(record.timestamp).toISOString();
  const level = record.level === "warning" ? "warning" : record.level;
  if (format === "json") {
    return JSON.stringify({ level, msg, time, ...record.properties }) + "\n";
  }
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function fileSink(path: string, format: "text" | "json"): Sink {
  return (record) => {
    try {
      Deno.writeTextFileSync(path, formatLine(record, format), {
        append: true,
      });
    } catch {
      // a log we cannot write must not hide the error itself
    }
  };
}

function stderrSink(format: "text" | "json"): Sink {
  const encoder = new TextEncoder();
  return (record) => {
    Deno.stderr.writeSync(encoder.encode(formatLine(record, format)));
  };
}

/**
 * Configures logtape and routes the core's log calls to it.
 *
 * @param options Where and how to log.
 */
export async function setUpLogging(options: LogOptions): Promise<void> {
  const sink = options.file
    ? fileSink(options.file, options.format)
    : stderrSink(options.format);
  await configure({
    reset: true,
    sinks: { main: sink },
    loggers: [
      {
        category: ["remoteproc-runtime"],
        lowestLevel: options.debug ? "debug" : "warning",
        sinks: ["main"],
      },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  const logger = getLogger(["remoteproc-runtime"]);
  setLogSink((level, message) => logger[level](message));
}

/**
 * Logs an error record (the one JSON line engines read) when `--log` is
 * given. The CLI prints the message to stderr itself.
 *
 * @param options Where and how to log.
 * @param message The one-line error.
 */
export async function logError(
  options: LogOptions,
  message: string,
): Promise<void> {
  if (!options.file) return;
  await setUpLogging(options);
  getLogger(["remoteproc-runtime"]).error(message);
}

/**
 * Logs warning records when `--log` is given (the CLI prints them to
 * stderr itself, as they happen).
 *
 * @param options Where and how to log.
 * @param messages One-line warnings.
 */
export async function logWarnings(
  options: LogOptions,
  messages: readonly string[],
): Promise<void> {
  if (!options.file || messages.length === 0) return;
  await setUpLogging(options);
  const logger = getLogger(["remoteproc-runtime"]);
  for (const message of messages) logger.warn(message);
}
