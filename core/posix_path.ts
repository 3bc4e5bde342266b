/**
 * The few POSIX path functions the proxy's modules need, with node:path's
 * exact results (a test compares them). Importing `node:path` pulls in
 * Deno's Node compatibility layer, about 1.3 MiB of private memory in every
 * proxy; these are plain string functions.
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
 * The last segment of a path, as `node:path` `basename` with one argument.
 *
 * @param path A path.
 * @returns Its last segment (trailing slashes ignored).
 */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
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
