// The kubelet's gRPC side for tests/helpers/kubelet.ts, run by Node.js.
//
// Why Node: Deno 2.9's node:http2 aborts the whole process (nghttp2
// assertion `stream->closed_next == NULL`, exit 134) when a session
// receives a GOAWAY in some stream states
// (denoland/deno#36788). A kubelet stand-in inside `deno test` took the
// whole test run down with it about once in ten runs. Node's http2 is the
// one grpc-js is written for; the device plugin under test still runs on
// Deno, so a crash there stays visible (its exit code).
//
// Protocol: one JSON object per line. argv[2] is the device-plugins
// directory, argv[3] the proto text. Requests on stdin carry an `id` and
// are answered by `{id, value}` or `{id, error}`; events go out unasked:
// `{event: "register", request}` and `{event: "list", watch, list}`.
"use strict";
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");
const { join } = require("node:path");
const fs = require("node:fs");
const readline = require("node:readline");

const [dir, proto] = process.argv.slice(2);
const root = protobuf.parse(proto, { keepCase: true }).root;
const api = grpc.loadPackageDefinition(
  protoLoader.fromJSON(root.toJSON(), {
    keepCase: true,
    defaults: true,
    arrays: true,
    objects: true,
  }),
).v1beta1;

const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");

let server;
let failNext;
const clients = new Map();
const watches = new Map();

function client(endpoint) {
  let found = clients.get(endpoint);
  if (found === undefined) {
    found = new api.DevicePlugin(
      `unix://${join(dir, endpoint)}`,
      grpc.credentials.createInsecure(),
    );
    clients.set(endpoint, found);
  }
  return found;
}

const ops = {
  start: () =>
    new Promise((resolve, reject) => {
      const next = new grpc.Server();
      next.addService(api.Registration.service, {
        Register: (call, callback) => {
          if (failNext !== undefined) {
            const details = failNext;
            failNext = undefined;
            callback({ code: grpc.status.INVALID_ARGUMENT, details });
            return;
          }
          send({ event: "register", request: call.request });
          callback(null, {});
        },
      });
      next.bindAsync(
        `unix://${join(dir, "kubelet.sock")}`,
        grpc.ServerCredentials.createInsecure(),
        (error) => {
          if (error) return reject(error);
          server = next;
          resolve(null);
        },
      );
    }),
  stop: () => {
    server?.forceShutdown();
    server = undefined;
    fs.rmSync(join(dir, "kubelet.sock"), { force: true });
    return null;
  },
  failNext: ({ details }) => {
    failNext = details;
    return null;
  },
  call: ({ endpoint, method, request }) =>
    new Promise((resolve, reject) =>
      client(endpoint)[method](
        request,
        { deadline: Date.now() + 5000 },
        (error, value) => error ? reject(error) : resolve(value),
      )
    ),
  watch: ({ endpoint, watch }) => {
    const call = client(endpoint).ListAndWatch({});
    call.on("data", (message) =>
      send({
        event: "list",
        watch,
        list: Object.fromEntries(
          message.devices.map((d) => [d.ID, d.health]),
        ),
      }));
    call.on("error", () => {});
    watches.set(watch, call);
    return null;
  },
  cancel: ({ watch }) => {
    watches.get(watch)?.cancel();
    watches.delete(watch);
    return null;
  },
  close: ({ endpoint }) => {
    clients.get(endpoint)?.close();
    clients.delete(endpoint);
    return null;
  },
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const { id, op, ...args } = JSON.parse(line);
  try {
    send({ id, value: await ops[op](args) });
  } catch (error) {
    send({ id, error: error.message ?? String(error) });
  }
}).on("close", () => process.exit(0));
