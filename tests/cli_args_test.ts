import assert from "node:assert/strict";
import { parseGlobals, parseVerb, type VerbOptions } from "../cli/args.ts";
import { UsageError } from "../core/util/errors.ts";

const CREATE: VerbOptions = {
  bundle: { type: "string", short: "b" },
  "pid-file": { type: "string" },
  "no-pivot": { type: "boolean" },
};
const KILL: VerbOptions = {
  all: { type: "boolean", short: "a" },
  force: { type: "boolean", short: "f" },
};
const ONE = { min: 1, max: 1 };

function rejects(args: string[], options: VerbOptions, message: string) {
  assert.throws(
    () => parseVerb("v", args, options, { min: 0, max: 5 }),
    (e: unknown) => e instanceof UsageError && e.message === message,
  );
}

Deno.test("verb flags take values in every form runc accepts", () => {
  for (
    const args of [
      ["--bundle", "/b", "c1"],
      ["--bundle=/b", "c1"],
      ["-bundle", "/b", "c1"],
      ["-bundle=/b", "c1"],
      ["-b", "/b", "c1"],
      ["-b/b", "c1"],
      ["-b=/b", "c1"],
      ["c1", "--bundle", "/b"],
    ]
  ) {
    const { values, positionals } = parseVerb("create", args, CREATE, ONE);
    assert.equal(values.bundle, "/b", args.join(" "));
    assert.deepEqual(positionals, ["c1"]);
  }
});

Deno.test("boolean flags: bare, =true/=false, grouped shorts", () => {
  const parse = (args: string[]) =>
    parseVerb("kill", args, KILL, { min: 0, max: 2 }).values;
  assert.deepEqual(parse(["--all"]), { all: true });
  assert.deepEqual(parse(["--all=false"]), { all: false });
  assert.deepEqual(parse(["-all=true"]), { all: true });
  assert.deepEqual(parse(["-af"]), { all: true, force: true });
  rejects(["--all=yes"], KILL, "v: flag --all takes no value");
});

Deno.test("defaults apply and `--` ends the flags", () => {
  const { values, positionals } = parseVerb("list", ["--", "-q", "--x"], {
    format: { type: "string", default: "table" },
    quiet: { type: "boolean", short: "q" },
  }, { min: 0, max: 2 });
  assert.deepEqual(values, { format: "table" });
  assert.deepEqual(positionals, ["-q", "--x"]);
  // A lone "-" is an argument, not a flag.
  assert.deepEqual(parseVerb("v", ["-"], {}, ONE).positionals, ["-"]);
});

Deno.test("bad flags are one-line usage errors naming the flag", () => {
  rejects(["--privileged"], CREATE, "v: unknown flag --privileged");
  rejects(["--privileged=1"], CREATE, "v: unknown flag --privileged");
  rejects(["-x"], CREATE, "v: unknown flag -x");
  rejects(["-bx", "-zq"], CREATE, "v: unknown flag -zq");
  rejects(["--bundle"], CREATE, "v: flag --bundle needs a value");
  rejects(["-b"], CREATE, "v: flag --bundle needs a value");
  rejects(["-ab"], KILL, "v: unknown flag -b");
});

Deno.test("positional counts: a missing id and extra arguments", () => {
  assert.throws(
    () => parseVerb("state", [], {}, ONE),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === "state: container id cannot be empty",
  );
  assert.throws(
    () => parseVerb("state", ["a", "b"], {}, ONE),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === 'state: unexpected argument "b"',
  );
});

Deno.test("parseGlobals() takes --x=y and --x y, ignores cgroup flags and stops at the verb", () => {
  const g = parseGlobals([
    "--root",
    "/r",
    "--log=/l",
    "--log-format=json",
    "--systemd-cgroup",
    "--cgroup-manager",
    "disabled",
    "create",
    "--bundle",
    "b",
    "id",
  ]);
  assert.equal(g.root, "/r");
  assert.equal(g.log, "/l");
  assert.equal(g.logFormat, "json");
  assert.equal(g.verb, "create");
  assert.deepEqual(g.rest, ["--bundle", "b", "id"]);
  assert.throws(() => parseGlobals(["--root"]), {
    message: "flag --root needs a value",
  });
});
