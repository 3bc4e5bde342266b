/**
 * Signal names and numbers as runc accepts them (`TERM`, `SIGTERM`, `15`),
 * and which of them a remote processor can honour.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";

const NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

/** The signals a container accepts. */
export type SupportedSignal = "SIGTERM" | "SIGINT" | "SIGKILL";

const SUPPORTED: Record<number, SupportedSignal> = {
  2: "SIGINT",
  9: "SIGKILL",
  15: "SIGTERM",
};

/**
 * Parses a signal argument.
 *
 * @example
 * ```ts
 * import { parseSignal } from "./signals.ts";
 * parseSignal("15"); // "SIGTERM"
 * parseSignal("kill"); // "SIGKILL"
 * ```
 *
 * @param raw `TERM`, `SIGTERM` or a number; default `SIGTERM`.
 * @returns The signal to deliver to the proxy.
 * @throws {UsageError} `unknown signal "X"`, or a known signal a processor
 * cannot honour.
 */
export function parseSignal(raw: string | undefined): SupportedSignal {
  if (raw === undefined) return "SIGTERM";
  let number: number | undefined;
  if (/^\d+$/.test(raw)) {
    number = Number(raw);
    if (number < 1 || number > 64) number = undefined;
  } else {
    const name = raw.toUpperCase().replace(/^SIG/, "");
    number = NUMBERS[name];
    if (number === undefined) {
      const rt = /^RTMIN(?:\+(\d+))?$|^RTMAX(?:-(\d+))?$/.exec(name);
      if (rt) {
        number = rt[0].startsWith("RTMIN")
          ? 34 + Number(rt[1] ?? 0)
          : 64 - Number(rt[2] ?? 0);
      }
    }
  }
  if (number === undefined) {
    throw new UsageError(`unknown signal ${JSON.stringify(raw)}`);
  }
  const supported = SUPPORTED[number];
  if (!supported) {
    throw new UsageError(
      `signal ${raw} is not supported: a remote processor can be stopped (TERM, INT) or killed (KILL)`,
    );
  }
  return supported;
}
