// The admin REST API, called with the admin token. A 401 hands the error
// to the handler set with whenRefused (the session signs out); an answer to
// a request of an earlier session is dropped.

import { S } from "./state.js";
import { ApiError } from "./errors.js";

let refused = () => {};

// whenRefused sets what a 401 does.
export function whenRefused(fn) {
  refused = fn;
}

async function errorOf(res) {
  try {
    const body = await res.json();
    if (body && body.error && body.error.code) return new ApiError(body.error.code, body.error.message || "", res.status);
  } catch { /* not JSON */ }
  return new ApiError(`http_${res.status}`, res.statusText || "request failed", res.status);
}

// send calls the admin API with the token and returns the answer, or throws
// its error. A 401 signs out. body goes as JSON, or as it is with a
// contentType (a CSV file).
async function send(method, path, body, accept, contentType) {
  const gen = S.gen;
  const headers = { Authorization: `Bearer ${S.token}`, Accept: accept };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    init.body = contentType ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError("network", `could not reach the server (${e.message || e})`);
  }
  if (gen !== S.gen) { // signed out meanwhile
    const stale = new ApiError("signed_out", "signed out");
    stale.handled = true;
    throw stale;
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) {
      refused(err);
      err.handled = true;
    }
    throw err;
  }
  return res;
}

// api calls the admin API with the token and returns its JSON answer.
export async function api(method, path, body) {
  const res = await send(method, path, body, "application/json");
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// upload sends a file as the body, of its contentType, and returns the
// JSON answer.
export async function upload(method, path, file, contentType) {
  const res = await send(method, path, file, "application/json", contentType);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// download GETs a file from the admin API and saves it under name. A plain
// link cannot carry the token (it goes as a header, never in the URL), so
// the file is fetched and handed to the browser as a Blob URL. With body,
// it is the answer to a POST of that JSON body instead (a file made once).
export async function download(path, name, accept, body) {
  const res = await send(body === undefined ? "GET" : "POST", path, body, accept);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000); // the save may start after click returns
}
