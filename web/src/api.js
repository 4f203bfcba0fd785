// Talking to Tauon's HTTP API (docs/api.md). The token lives in
// sessionStorage only: it is gone when the tab closes, and never in a URL.

const TOKEN_KEY = 'tauon.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called with the ApiError when the server rejects the token (401).
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${token() || ''}`, ...extra };
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) message = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  const error = new ApiError(response.status, message);
  if (response.status === 401) onUnauthorized(error);
  return error;
}

// GET (or another method with a JSON body) under /api/v1; resolves to the
// parsed JSON, rejects with an ApiError carrying the server's message.
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, headers: headers(), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`/api/v1${path}`, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

// GET of a text/plain resource under /api/v1 (a replica's log): resolves to
// its text, rejects like api().
export async function apiText(path, { signal } = {}) {
  const response = await fetch(`/api/v1${path}`, { headers: headers(), signal });
  if (!response.ok) throw await failure(response);
  return response.text();
}

// Checks a token without keeping it: true if the server accepts it.
export async function checkToken(candidate) {
  const response = await fetch('/api/v1/repos', {
    headers: { Authorization: `Bearer ${candidate}` },
  });
  if (response.status === 401) return false;
  if (!response.ok) throw await failure(response);
  return true;
}

// Downloads an artifact: a plain link cannot send the Authorization header,
// so the bytes are fetched and handed to the browser as a blob.
export async function download(path, filename) {
  const response = await fetch(`/api/v1${path}`, { headers: headers() });
  if (!response.ok) throw await failure(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Reads a Server-Sent Events stream with fetch(), since EventSource cannot
// send the Authorization header. Calls onEvent(type, data) for each event
// (data parsed as JSON); resolves when the server ends the stream, rejects
// on errors (an AbortError when `signal` aborts).
export async function streamEvents(path, onEvent, signal) {
  const response = await fetch(`/api/v1${path}`, {
    headers: headers({ Accept: 'text/event-stream' }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const parser = sseParser(onEvent);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser(value);
  }
}

// An SSE parser for text that arrives in arbitrary pieces: returns a
// function to call with each piece; calls onEvent(type, JSON data) for each
// complete event. Comments (": keep-alive") and events without data are
// skipped; CRLF line ends are accepted.
export function sseParser(onEvent) {
  let buffer = '';
  let carriageReturn = false;  // A piece ended in \r: its \n may come next.
  return (text) => {
    if (carriageReturn && text.startsWith('\n')) text = text.slice(1);
    carriageReturn = text.endsWith('\r');
    buffer += text.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).replace(/^ /, '');
      }
      if (data) onEvent(type, JSON.parse(data));
    }
  };
}
