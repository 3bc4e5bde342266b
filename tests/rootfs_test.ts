/**
 * core/firmware/rootfs.ts: the firmware `start` stores comes from the rootfs `create`
 * pinned, as a new file with mode 0600 (until start has checked it), whether it is read through descriptors (FFI) or,
 * where FFI is denied, by path.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const HELPER = fileURLToPath(
  new URL("./helpers/rootfs_checks.ts", import.meta.url),
);
const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

async function checks(ffi: boolean): Promise<Record<string, unknown>> {
  const tmp = Deno.makeTempDirSync({ prefix: "rootfs_test_" });
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        `--config=${CONFIG}`,
        "-A",
        ...(ffi ? [] : ["--deny-ffi"]),
        HELPER,
        tmp,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    return JSON.parse(new TextDecoder().decode(result.stdout));
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

for (const ffi of [true, false]) {
  Deno.test(`openFirmwareSource() ${ffi ? "through descriptors" : "by path (FFI denied)"}: copies only from the pinned rootfs, never through a link, as a new file only root can read`, async () => {
    const outcomes = await checks(ffi);
    const tmpName = (s: string) => s.replace(/\/tmp\/rootfs_test_\w+/g, "$TMP");
    assert.deepEqual(
      JSON.parse(tmpName(JSON.stringify(outcomes))),
      {
        ffi: ffi ? "granted" : "denied",
        intact: { copied: "firmware of intact", mode: "600" },
        "rootfs-link": {
          error:
            "ConfigError: root.path $TMP/rootfs-link/rootfs changed since create: it is now a symlink",
        },
        "rootfs-other": {
          error:
            "ConfigError: root.path $TMP/rootfs-other/rootfs changed since create: it is another directory",
        },
        "firmware-link": {
          error:
            "ConfigError: firmware file /fw.elf is no longer a regular file in the rootfs",
        },
        "target-exists": {
          error: ffi
            ? "ErrnoError: File exists"
            : "AlreadyExists: File exists (os error 17): open '$TMP/target-exists/stored.elf'",
        },
      },
    );
  });
}
