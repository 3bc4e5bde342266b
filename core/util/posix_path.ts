/**
 * The POSIX path functions the runtime needs, with node:path's exact
 * results (a test compares them). Importing `node:path` (or any `node:`
 * module) pulls in Deno's Node compatibility layer: about 13 ms at the start
 * of every CLI verb and 1.3 MiB of private memory in every proxy. These are
 * plain string functions.
 *
 * @module
 */

/**
 * Joins path segments and normalizes the result, as `node:path` `join`.
 *
 * @param parts Segments.
 * @returns The joined path (`.` when empty).
 */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * Resolves segments to an absolute path against the working directory, as
 * `node:path` `resolve`.
 *
 * @param parts Segments.
 * @returns An absolute, normalized path without a trailing slash.
 */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    const part = parts[i]!;
    if (part !== "") path = path === "" ? part : `${part}/${path}`;
  }
  if (!path.startsWith("/")) {
    path = path === "" ? Deno.cwd() : `${Deno.cwd()}/${path}`;
  }
  return "/" + normalizeSegments(path, false);
}

/**
 * Whether a path is absolute.
 *
 * @param path A path.
 * @returns True when it starts with `/`.
 */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/**
 * The last segment of a path, as `node:path` `basename`.
 *
 * @param path A path.
 * @param suffix Removed from the end when present (and not the whole name).
 * @returns Its last segment (trailing slashes ignored).
 */
export function basename(path: string, suffix?: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "";
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return suffix && base !== suffix && base.endsWith(suffix)
    ? base.slice(0, base.length - suffix.length)
    : base;
}

/**
 * The directory part of a path, as `node:path` `dirname`.
 *
 * @param path A path.
 * @returns Everything before its last segment (`.` or `/` when nothing).
 */
export function dirname(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  let end = -1;
  let inName = false;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") inName = true;
    else if (inName) {
      end = i;
      break;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/**
 * The extension of a path's last segment, as `node:path` `extname`.
 *
 * @param path A path.
 * @returns From its last `.` on, or "" (also for dotfiles like `.profile`).
 */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  // No dot, a leading dot only (".profile"), or the name "..".
  if (dot <= 0 || base === "..") return "";
  return base.slice(dot);
}

/**
 * The relative path from one path to another, as `node:path` `relative`.
 *
 * @param from The starting point (resolved against the working directory).
 * @param to The target.
 * @returns `..` segments and the target's remaining segments ("" if equal).
 */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter((s) => s !== "");
  const b = resolve(to).split("/").filter((s) => s !== "");
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) {
    common++;
  }
  return [
    ...a.slice(common).map(() => ".."),
    ...b.slice(common),
  ].join("/");
}

/**
 * The path of a `file:` URL, as `node:url` `fileURLToPath` on POSIX.
 *
 * @param url A `file:` URL or its text.
 * @returns The decoded path.
 * @throws {TypeError} When the URL is not a `file:` URL.
 */
export function fileURLToPath(url: URL | string): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  if (parsed.protocol !== "file:") {
    throw new TypeError(`not a file: URL: ${parsed.href}`);
  }
  return decodeURIComponent(parsed.pathname);
}

/**
 * Normalizes a path, as `node:path` `normalize`.
 *
 * @param path A path.
 * @returns The path without `.`, resolvable `..` or repeated slashes.
 */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  let out = normalizeSegments(path, !absolute);
  if (out === "") {
    if (absolute) return "/";
    return trailing ? "./" : ".";
  }
  if (trailing) out += "/";
  return absolute ? `/${out}` : out;
}

function normalizeSegments(path: string, keepLeadingDotDot: boolean): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (keepLeadingDotDot) out.push("..");
      continue;
    }
    out.push(segment);
  }
  return out.join("/");
}
