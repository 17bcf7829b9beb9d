// The upload outbox: one XHR per file (for progress), at most three at once, each with its own
// Idempotency-Key so a retried file is never stored twice. Files the node has not acknowledged
// stay in the list as "waiting" and are retried when the connection comes back.
import { api, errorFrom, notifyUnauthenticated } from './api.js';
import { h, icon, clear } from './dom.js';
import { contentTypeFor, formatBytes, plural } from './format.js';

const MAX_PARALLEL = 3;
const MAX_AUTOMATIC_ATTEMPTS = 8;

const items = [];
let nextItemId = 1;
let panel = null;
let collapsed = false;
let renderQueued = false;

/** A random UUID; crypto.randomUUID exists only on HTTPS/localhost, and a node is often plain http on the LAN. */
export function randomKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
}

export function hasActiveUploads() {
  return items.some((i) => i.state === 'queued' || i.state === 'uploading' || i.state === 'processing' || i.state === 'waiting');
}

/** Queues files for upload into an album ({id, name}). */
export function enqueueUploads(files, album) {
  const list = [...files];
  if (list.length === 0) return;
  for (const file of list) {
    items.push({ id: nextItemId++, file, albumId: album.id, albumName: album.name, key: randomKey(), state: 'queued',
      loaded: 0, attempts: 0, message: '', xhr: null, timer: null, row: null, previewUrl: null });
  }
  collapsed = false;
  ensurePanel();
  pump();
  renderPanel();
}

function pump() {
  // Called on every state change (not on progress): refresh all rows once.
  for (const item of items) item.dirty = true;
  let running = items.filter((i) => i.state === 'uploading' || i.state === 'processing').length;
  for (const item of items) {
    if (running >= MAX_PARALLEL) break;
    if (item.state === 'queued') {
      start(item);
      running++;
    }
  }
  renderPanel();
}

function start(item) {
  const xhr = new XMLHttpRequest();
  item.xhr = xhr;
  item.state = 'uploading';
  item.loaded = 0;
  item.attempts++;
  item.message = '';
  xhr.open('POST', api.uploadUrl(item.albumId));
  xhr.setRequestHeader('Content-Type', contentTypeFor(item.file));
  xhr.setRequestHeader('X-Filename', encodeURIComponent(item.file.name));
  xhr.setRequestHeader('Idempotency-Key', item.key);
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.addEventListener('progress', (event) => {
    item.loaded = event.loaded;
    // Every byte is sent: the node is now encrypting and storing it.
    if (event.lengthComputable && event.loaded >= event.total) item.state = 'processing';
    scheduleRender(item);
  });
  xhr.addEventListener('load', () => finish(item, xhr));
  xhr.addEventListener('error', () => retryLater(item, null, 'Connection to your node was lost.'));
  xhr.addEventListener('abort', () => {
    if (item.state !== 'cancelled') item.state = 'cancelled';
    item.xhr = null;
    pump();
  });
  xhr.send(item.file);
}

function finish(item, xhr) {
  item.xhr = null;
  const status = xhr.status;
  if (status === 200 || status === 201) {
    let photo = null;
    try {
      photo = JSON.parse(xhr.responseText);
    } catch (_) { /* the node stored it; the grid catches up on the next visit */ }
    item.state = 'done';
    item.loaded = item.file.size;
    // 200 on the first attempt means the album already held these exact bytes.
    item.message = status === 200 && item.attempts === 1 ? 'Already in this album' : '';
    if (photo && photo.id) {
      window.dispatchEvent(new CustomEvent('sover:photo-uploaded',
        { detail: { albumId: item.albumId, photo, created: status === 201 } }));
    }
  } else {
    const error = errorFrom(status, xhr.responseText);
    if (status === 429 || status === 503 || status === 502 || status === 504) {
      const retryAfter = parseInt(xhr.getResponseHeader('Retry-After') || '', 10);
      retryLater(item, isFinite(retryAfter) ? retryAfter : null, error.message);
      return;
    }
    item.state = 'failed';
    item.message = status === 401 ? 'Your session ended. Sign in again, then press Retry.' : error.message;
    if (status === 401) notifyUnauthenticated();
  }
  pump();
}

/** Network loss or a busy node: try again by itself, with growing pauses, before giving up. */
function retryLater(item, seconds, message) {
  item.xhr = null;
  if (item.state === 'cancelled') return;
  if (item.attempts >= MAX_AUTOMATIC_ATTEMPTS) {
    item.state = 'failed';
    item.message = message;
    pump();
    return;
  }
  const delay = seconds !== null ? seconds : Math.min(60, 2 ** item.attempts);
  item.state = 'waiting';
  item.message = message;
  item.timer = setTimeout(() => {
    item.timer = null;
    if (item.state === 'waiting') {
      item.state = 'queued';
      pump();
    }
  }, delay * 1000);
  pump();
}

window.addEventListener('online', () => {
  for (const item of items) {
    if (item.state === 'waiting') {
      clearTimeout(item.timer);
      item.state = 'queued';
    }
  }
  pump();
});

window.addEventListener('beforeunload', (event) => {
  if (hasActiveUploads()) {
    event.preventDefault();
    event.returnValue = '';
  }
});

/** Tries a failed or cancelled file again with the same Idempotency-Key. */
function retry(item) {
  if (item.state !== 'failed' && item.state !== 'cancelled' && item.state !== 'waiting') return;
  clearTimeout(item.timer);
  item.attempts = Math.min(item.attempts, 1);
  item.state = 'queued';
  item.message = '';
  pump();
}

function cancel(item) {
  clearTimeout(item.timer);
  const xhr = item.xhr;
  item.state = 'cancelled';
  item.message = '';
  if (xhr) xhr.abort();
  pump();
}

function clearFinished() {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item.state === 'done' || item.state === 'cancelled' || item.state === 'failed') {
      if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
      items.splice(i, 1);
    }
  }
  renderPanel();
}

// ---- Panel ----------------------------------------------------------------------------------

const STATE_TEXT = {
  queued: 'Waiting…',
  uploading: 'Uploading',
  processing: 'Saving to your vault…',
  done: 'Uploaded',
  failed: 'Failed',
  waiting: 'Waiting to retry',
  cancelled: 'Cancelled',
};

function ensurePanel() {
  if (panel) return;
  const title = h('h2', { class: 'upload-title', 'data-testid': 'upload-title', id: 'upload-title' });
  const summaryBar = h('div', { class: 'progress-bar' });
  const summary = h('div', { class: 'progress upload-summary-progress', 'data-testid': 'upload-total-progress',
    role: 'progressbar', 'aria-labelledby': 'upload-title', 'aria-valuemin': '0', 'aria-valuemax': '100' }, summaryBar);
  const retryAll = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'upload-retry-all',
    hidden: true, onclick: () => items.filter((i) => i.state === 'failed').forEach(retry) }, icon('retry'), 'Retry all');
  const toggle = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-panel-toggle',
    'aria-expanded': 'true', 'aria-label': 'Hide upload list', onclick: () => {
      collapsed = !collapsed;
      renderPanel();
    } }, icon('chevronDown'));
  const close = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-panel-close',
    'aria-label': 'Close upload list', onclick: clearFinished }, icon('close'));
  const list = h('ul', { class: 'upload-list', 'data-testid': 'upload-list' });
  const element = h('section', { class: 'upload-panel', 'data-testid': 'upload-panel', 'aria-labelledby': 'upload-title' },
    h('header', { class: 'upload-head' }, h('div', { class: 'upload-head-text' }, title, summary),
      retryAll, toggle, close),
    list);
  document.body.append(element);
  panel = { element, title, summary, summaryBar, retryAll, toggle, close, list };
}

function scheduleRender(item) {
  if (item) item.dirty = true;
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderPanel();
  });
}

function percent(item) {
  if (item.state === 'done' || item.state === 'processing') return 100;
  return item.file.size > 0 ? Math.min(100, Math.round((item.loaded / item.file.size) * 100)) : 0;
}

function renderPanel() {
  if (!panel) return;
  if (items.length === 0) {
    panel.element.hidden = true;
    return;
  }
  panel.element.hidden = false;
  const count = (state) => items.filter((i) => i.state === state).length;
  const done = count('done');
  const failed = count('failed');
  const active = hasActiveUploads();
  const total = items.filter((i) => i.state !== 'cancelled').length;
  if (active) {
    const finished = done + failed;
    panel.title.textContent = 'Uploading ' + Math.min(finished + 1, total).toLocaleString() + ' of ' + total.toLocaleString();
  } else if (failed) {
    panel.title.textContent = (done ? done.toLocaleString() + ' uploaded · ' : '') + failed.toLocaleString() + ' failed';
  } else {
    panel.title.textContent = done ? plural(done, 'file', 'files') + ' uploaded' : 'Uploads cancelled';
  }
  const bytesTotal = items.reduce((sum, i) => sum + (i.state === 'cancelled' ? 0 : i.file.size), 0);
  const bytesSent = items.reduce((sum, i) => sum + (i.state === 'cancelled' ? 0
    : i.state === 'done' || i.state === 'processing' ? i.file.size : i.loaded), 0);
  const overall = bytesTotal ? Math.round((bytesSent / bytesTotal) * 100) : 100;
  panel.summaryBar.style.width = overall + '%';
  panel.summary.setAttribute('aria-valuenow', String(overall));
  panel.summary.hidden = !active;
  panel.element.dataset.state = active ? 'active' : failed ? 'failed' : 'done';
  panel.retryAll.hidden = active || failed < 2;
  panel.close.hidden = active;
  panel.element.classList.toggle('is-collapsed', collapsed);
  panel.toggle.setAttribute('aria-expanded', String(!collapsed));
  panel.toggle.setAttribute('aria-label', collapsed ? 'Show upload list' : 'Hide upload list');
  clear(panel.toggle).append(icon(collapsed ? 'chevronUp' : 'chevronDown'));

  // Rows are created once and then only updated, so hundreds of files stay cheap.
  const wanted = new Set(items);
  for (const row of [...panel.list.children]) {
    if (!wanted.has(row.item)) row.remove();
  }
  items.forEach((item) => {
    if (!item.row) {
      item.row = buildRow(item);
      item.dirty = true;
    }
    if (!item.row.isConnected) panel.list.append(item.row);
    if (item.dirty) updateRow(item);
  });
}

function buildRow(item) {
  const file = item.file;
  const type = contentTypeFor(file);
  const preview = h('div', { class: 'upload-thumb' },
    icon(type.startsWith('video/') ? 'video' : type.startsWith('image/') ? 'image' : 'file'));
  if (String(file.type).startsWith('image/') && file.size < 40 * 1024 * 1024) {
    item.previewUrl = URL.createObjectURL(file);
    const img = h('img', { src: item.previewUrl, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.remove());
    preview.append(img);
  }
  const bar = h('div', { class: 'progress-bar' });
  const progress = h('div', { class: 'progress', role: 'progressbar', 'data-testid': 'upload-progress',
    'aria-label': 'Upload progress of ' + file.name, 'aria-valuemin': '0', 'aria-valuemax': '100' }, bar);
  const status = h('p', { class: 'upload-status', 'data-testid': 'upload-status' });
  const retryButton = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'upload-retry',
    onclick: () => retry(item) }, icon('retry'), 'Retry');
  const cancelButton = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-cancel',
    'aria-label': 'Cancel upload of ' + file.name, onclick: () => cancel(item) }, icon('close'));
  const stateIcon = h('span', { class: 'upload-state-icon', 'aria-hidden': 'true' });
  const row = h('li', { class: 'upload-item', 'data-testid': 'upload-item', 'data-upload-key': item.key },
    preview,
    h('div', { class: 'upload-main' },
      h('div', { class: 'upload-line' },
        h('span', { class: 'upload-name', 'data-testid': 'upload-name', title: file.name, text: file.name }),
        h('span', { class: 'upload-size', text: formatBytes(file.size) })),
      progress, status),
    h('div', { class: 'upload-actions' }, stateIcon, retryButton, cancelButton));
  row.item = item;
  row.parts = { bar, progress, status, retryButton, cancelButton, stateIcon };
  return row;
}

function updateRow(item) {
  item.dirty = false;
  const { bar, progress, status, retryButton, cancelButton, stateIcon } = item.row.parts;
  const pct = percent(item);
  item.row.dataset.state = item.state;
  bar.style.width = pct + '%';
  progress.setAttribute('aria-valuenow', String(pct));
  progress.hidden = item.state === 'done' || item.state === 'failed' || item.state === 'cancelled';
  let text = STATE_TEXT[item.state];
  if (item.state === 'uploading') text = pct + '% · to ' + item.albumName;
  if (item.state === 'done') text = item.message || 'Uploaded to ' + item.albumName;
  if (item.state === 'failed') text = item.message;
  if (item.state === 'waiting') text = item.message + ' Sover will try again by itself.';
  status.textContent = text;
  status.classList.toggle('upload-status-error', item.state === 'failed');
  retryButton.hidden = !(item.state === 'failed' || item.state === 'cancelled');
  cancelButton.hidden = !(item.state === 'queued' || item.state === 'uploading' || item.state === 'waiting');
  clear(stateIcon);
  if (item.state === 'done') stateIcon.append(icon('check'));
}
