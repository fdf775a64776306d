// KNOWN TO FAIL (the `bodies_blob` scenario, run only when named): a request body that
// is a Blob crashes the app. wry's linux-body reader calls
// webkit_uri_scheme_request_get_http_body() for every custom-scheme request, and with
// WebKitGTK 2.50.6 that call dies with SIGSEGV in the UI process (the app itself, not
// the web process) when the body is a Blob, of one part or several, even an empty one.
// Any script that may fetch a custom scheme (here ipc://localhost, which the CSP's
// connect-src allows) can do it. The same sizes as bodies.js, each as a Blob of one part
// and of several parts; the first post ends the run.

import { BLOB_SHAPES, BOUNDARIES, fnv, pattern, postRaw } from "./bodies.js";

export default async function (t) {
  for (const [shape, make] of Object.entries(BLOB_SHAPES)) {
    const bad = [];
    let seed = 1;
    for (const size of BOUNDARIES) {
      const bytes = pattern(size, seed++);
      const got = await postRaw(make(bytes));
      if (got.len !== size || got.hash !== fnv(bytes)) bad.push(`${size}: got ${got.len}/${got.hash}`);
    }
    await t.check(`raw body, ${shape}: all ${BOUNDARIES.length} sizes read whole`, "", bad.join("; "));
  }
}
