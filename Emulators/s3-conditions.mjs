// S3's ETag conditions on the two requests that move a batch's files (Pipeline.Storage's BatchArchive), which fauxqs
// accepts but ignores: a copy only while its source is the object listed (x-amz-copy-source-if-match), a delete only
// while the object is still that one (DeleteObjects with an ETag per key). Without them, a newer upload written while
// an older version is archived would be copied over or deleted, where AWS keeps it.
//
// installS3Conditions() must run before fauxqs is imported: it wraps the HTTP server fauxqs creates and learns fauxqs's
// S3 store from the first S3 call. Each delete is checked and done in one turn of the event loop; a copy is checked
// when its request arrives and made by fauxqs a moment later, so an upload landing in that gap is copied, but it is
// still not deleted.
import http from "node:http";

const PRECONDITION_FAILED = "At least one of the pre-conditions you specified did not hold";

// fauxqs's own error and escaping, for answers in its shape (its package exports neither: imported by path).
const fauxqs = (path) => import(new URL(`./node_modules/fauxqs/dist/${path}`, import.meta.url));
const { S3Error } = await fauxqs("common/errors.js");
const { escapeXml } = await fauxqs("common/xml.js");

export async function installS3Conditions() {
  const { S3Store } = await fauxqs("s3/s3Store.js");
  let store;
  for (const [name, { value: method }] of Object.entries(Object.getOwnPropertyDescriptors(S3Store.prototype))) {
    if (name !== "constructor" && typeof method === "function") {
      S3Store.prototype[name] = function (...args) {
        store = this;
        return method.apply(this, args);
      };
    }
  }

  const createServer = http.createServer;
  http.createServer = function (...args) {
    const at = args.findIndex((arg) => typeof arg === "function");
    const handle = args[at];
    args[at] = (request, response) => {
      if (!store || !intercept(store, request, response)) {
        handle(request, response);
      }
    };
    return createServer.apply(this, args);
  };
}

/** Answers a conditional request itself (true), or leaves it to fauxqs (false). */
function intercept(store, request, response) {
  const url = new URL(request.url ?? "/", "http://emulator");
  const path = url.pathname.split("/").filter(Boolean);
  if (request.method === "POST" && url.searchParams.has("delete") && path.length === 1) {
    const bucket = decoded(path[0]);
    if (bucket === undefined) {
      return false; // fauxqs answers what it makes of it
    }
    readBody(request, (body) => deleteObjects(store, bucket, body, response));
    return true;
  }
  const ifMatch = request.headers["x-amz-copy-source-if-match"];
  const source = request.headers["x-amz-copy-source"];
  if (request.method === "PUT" && source && ifMatch) {
    const [bucket, ...key] = (decoded(source) ?? "").replace(/^\//, "").split("/");
    const current = etagOf(store, bucket, key.join("/"));
    // A missing source is left to fauxqs, which answers NoSuchKey as S3 does.
    if (current !== undefined && current !== bare(ifMatch)) {
      request.resume();
      sendXml(response, 412, new S3Error("PreconditionFailed", PRECONDITION_FAILED, 412).toXml());
      return true;
    }
  }
  return false;
}

/** The URL-decoded text, or undefined when it is not valid percent-encoding (never an exception: it would end the emulator). */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** DeleteObjects: each key deleted unless its ETag is given and the object is another one now (a PreconditionFailed error). */
function deleteObjects(store, bucket, body, response) {
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(body);
  const results = [];
  for (const [, object] of body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const key = unescapeXml(/<Key>([\s\S]*?)<\/Key>/.exec(object)?.[1] ?? "");
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(object)?.[1];
    const current = etag === undefined ? undefined : etagOf(store, bucket, key);
    try {
      if (etag !== undefined && current !== undefined && current !== bare(unescapeXml(etag))) {
        throw new S3Error("PreconditionFailed", PRECONDITION_FAILED, 412);
      }
      store.deleteObject(bucket, key); // a missing key counts as deleted, as in S3
    } catch (error) {
      const code = error?.code ?? "InternalError";
      results.push(`<Error><Key>${escapeXml(key)}</Key><Code>${code}</Code><Message>${escapeXml(String(error?.message))}</Message></Error>`);
      continue;
    }
    if (!quiet) {
      results.push(`<Deleted><Key>${escapeXml(key)}</Key></Deleted>`);
    }
  }
  const result = `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${results.join("")}</DeleteResult>`;
  sendXml(response, 200, `<?xml version="1.0" encoding="UTF-8"?>\n${result}`);
}

/** The object's ETag without quotes, or undefined when there is no such object. */
function etagOf(store, bucket, key) {
  try {
    return bare(store.headObject(bucket, key).etag);
  } catch {
    return undefined;
  }
}

function readBody(request, then) {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => then(Buffer.concat(chunks).toString("utf-8")));
}

function sendXml(response, status, document) {
  response.writeHead(status, { "content-type": "application/xml" });
  response.end(document);
}

const bare = (etag) => etag.trim().replace(/^"|"$/g, "");

const unescapeXml = (text) =>
  text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&apos;", "'").replaceAll("&amp;", "&");
