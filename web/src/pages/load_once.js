// A page part loaded once from the API: `show(answer)` fills `body`, or an
// error box does; the first render is marked either way. Returns the page's
// cleanup, which abandons the request.

import { api } from '../api.js';
import { rendered } from '../app.js';
import { fill, errorBox } from '../util.js';

export function loadOnce(body, path, show) {
  const controller = new AbortController();
  api(path, { signal: controller.signal }).then((answer) => {
    fill(body, show(answer));
    rendered();
  }).catch((error) => {
    if (error.name === 'AbortError') return;
    fill(body, errorBox(error));
    rendered();
  });
  return () => controller.abort();
}
