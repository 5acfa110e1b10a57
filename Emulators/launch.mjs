// Starts one local AWS emulator, listening on loopback only.
//
//   node launch.mjs aws      [--port 4566] [--data-dir DIR]   fauxqs: S3, SQS and SNS
//   node launch.mjs dynamodb [--port 8000] [--data-dir DIR]   dynalite: DynamoDB
//
// The port also comes from the PORT environment variable (how Aspire hands it over).
// Without --data-dir the emulator keeps everything in memory. S3's ETag conditions on copies and deletes, which
// fauxqs ignores, are held to by s3-conditions.mjs.
import net from "node:net";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { installS3Conditions } from "./s3-conditions.mjs";

const LOOPBACK = "127.0.0.1";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
  },
});

const service = positionals[0];
const defaults = { aws: 4566, dynamodb: 8000 };
if (!(service in defaults)) {
  console.error(`usage: node launch.mjs <aws|dynamodb> [--port N] [--data-dir DIR] (got '${service ?? ""}')`);
  process.exit(64);
}
const port = Number(values.port ?? process.env.PORT ?? defaults[service]);
const dataDir = values["data-dir"];

// fauxqs always asks for 0.0.0.0; never expose a credential-less AWS look-alike to the network.
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] !== null && typeof args[0] === "object") {
    args[0] = { ...args[0], host: LOOPBACK };
  } else if (typeof args[1] === "string") {
    args[1] = LOOPBACK;
  } else {
    args.splice(1, 0, LOOPBACK);
  }
  return listen.apply(this, args);
};

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}

if (service === "aws") {
  await installS3Conditions();
  const { startFauxqs } = await import("fauxqs");
  const verbose = process.env.EMULATOR_VERBOSE === "true";
  const server = await startFauxqs({ port, logger: verbose, ...(dataDir ? { dataDir } : {}) });
  console.log(`S3, SQS and SNS (fauxqs) listening at http://${LOOPBACK}:${server.port}`);
} else {
  const dynalite = createRequire(import.meta.url)("dynalite");
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) });
  server.listen(port, LOOPBACK, () => {
    console.log(`DynamoDB (dynalite) listening at http://${LOOPBACK}:${server.address().port}`);
  });
}
