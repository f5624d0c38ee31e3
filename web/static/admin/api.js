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

// api calls the admin API with the token. A 401 signs out.
export async function api(method, path, body) {
  const gen = S.gen;
  const headers = { Authorization: `Bearer ${S.token}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
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
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}
