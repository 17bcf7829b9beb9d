// Uploads and the outbox. Each file gets an Idempotency-Key and is written to this device's outbox
// (IndexedDB, js/outbox.js) before it is sent; it leaves the outbox only when the node answers 2xx.
// So a file the node has not acknowledged stays listed as pending, survives a reload, and is sent
// again with the same key (the node stores it once however often it arrives). One XHR per file
// (for progress), at most three at once. When the node cannot be reached, the outbox waits and
// probes with one file at growing intervals, at once when the browser comes back online, and at
// the next page load.
import { api, errorFrom, notifyUnauthenticated } from './api.js';
import { h, icon, clear } from './dom.js';
import { contentTypeFor, formatBytes, formatWhen, plural } from './format.js';
import { loadEntries, removeEntry, saveEntry, updateEntry } from './outbox.js';

const MAX_PARALLEL = 3;
const FIRST_PAUSE_SECONDS = 5;
const LONGEST_PAUSE_SECONDS = 300;
// Answers that mean "the node is busy or away", not "this file is wrong": wait and send again.
const RETRYABLE = new Set([0, 408, 429, 502, 503, 504]);

const items = [];
let nextItemId = 1;
let panel = null;
let collapsed = false;
let renderQueued = false;

let userId = null; // whose outbox is open; null while nobody is signed in
let paused = true; // no session: nothing is sent
let reachable = true;
let probeTimer = null;
let probeAt = null;
let pauseSeconds = FIRST_PAUSE_SECONDS;
let probeItem = null;
let resumeRun = 0;

/** A random UUID; crypto.randomUUID exists only on HTTPS/localhost, and a node is often plain http on the LAN. */
export function randomKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
}

const isPending = (i) => i.state === 'queued' || i.state === 'uploading' || i.state === 'processing' || i.state === 'waiting';

export function hasActiveUploads() {
  return items.some(isPending);
}

function newItem(fields) {
  return { id: nextItemId++, state: 'queued', loaded: 0, attempts: 0, message: '', xhr: null, row: null,
    previewUrl: null, saved: null, persisted: false, restored: false, ...fields };
}

/** Writes an item to the outbox; the upload does not wait for it, but the removal after a 2xx does. */
function persist(item) {
  item.saved = saveEntry({
    key: item.key, userId, albumId: item.albumId, albumName: item.albumName, name: item.name, type: item.type,
    size: item.size, addedAt: item.addedAt, state: 'queued', message: '', attempts: item.attempts,
  }, item.file).then(() => {
    item.persisted = true;
  }, (error) => {
    console.warn('outbox: could not keep a file on this device', error);
    item.persisted = false;
    item.saveFailed = true;
    item.dirty = true;
    scheduleRender();
  });
  return item.saved;
}

function remember(item, changes) {
  if (!item.persisted && !item.saved) return;
  Promise.resolve(item.saved).then(() => (item.persisted ? updateEntry(item.key, changes) : null))
    .catch((error) => console.warn('outbox: could not update an entry', error));
}

function forget(item) {
  const saved = item.saved;
  item.persisted = false;
  item.saved = null;
  Promise.resolve(saved).then(() => removeEntry(item.key))
    .catch((error) => console.warn('outbox: could not remove an entry', error));
}

/** Queues files for upload into an album ({id, name}). */
export function enqueueUploads(files, album) {
  const list = [...files];
  if (list.length === 0) return;
  for (const file of list) {
    const item = newItem({ file, name: file.name || 'photo', type: contentTypeFor(file), size: file.size,
      albumId: album.id, albumName: album.name, key: randomKey(), addedAt: Date.now() });
    items.push(item);
    if (userId) persist(item);
  }
  collapsed = false;
  ensurePanel();
  pump();
}

/**
 * Opens a signed-in user's outbox: the files a previous visit left unacknowledged come back as
 * pending and are sent again (failed ones wait for Retry).
 */
export async function resumeOutbox(user) {
  const run = ++resumeRun;
  userId = user && user.id ? user.id : null;
  paused = !userId;
  if (!userId) return;
  // Files queued before the session was known (none today, but cheap to honour) go in the outbox now.
  for (const item of items) if (!item.saved && isPending(item)) persist(item);
  let entries = [];
  try {
    entries = await loadEntries(userId);
  } catch (error) {
    console.warn('outbox: not available on this device', error);
  }
  if (run !== resumeRun) return;
  const known = new Set(items.map((i) => i.key));
  for (const entry of entries) {
    if (known.has(entry.key)) continue;
    if (!entry.blob) {
      removeEntry(entry.key).catch(() => {});
      continue;
    }
    const failed = entry.state === 'failed';
    items.push(newItem({ file: entry.blob, name: entry.name || 'photo', type: entry.type || contentTypeFor(entry.blob),
      size: typeof entry.size === 'number' ? entry.size : entry.blob.size, albumId: entry.albumId,
      albumName: entry.albumName || 'album', key: entry.key, addedAt: entry.addedAt || Date.now(),
      attempts: entry.attempts || 0, restored: true, persisted: true, saved: Promise.resolve(),
      state: failed ? 'failed' : 'queued', message: failed ? entry.message || 'The upload failed.' : '' }));
  }
  if (items.length) {
    ensurePanel();
    reachable = true;
    pauseSeconds = FIRST_PAUSE_SECONDS;
  }
  pump();
}

/** Signing out: stop sending and hide the list; what was not acknowledged stays in the outbox. */
export function suspendOutbox() {
  resumeRun++;
  paused = true;
  userId = null;
  clearTimeout(probeTimer);
  probeTimer = null;
  probeAt = null;
  probeItem = null;
  for (const item of items) {
    if (item.xhr) {
      item.suspended = true;
      item.xhr.abort();
    }
    if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
  }
  items.length = 0;
  renderPanel();
}

function pump() {
  // Called on every state change (not on progress): refresh all rows once.
  for (const item of items) item.dirty = true;
  if (!reachable && !paused && !probeItem) {
    // Whatever ended the last probe (a cancel, a removal), the outbox must not stall.
    if (!items.some((i) => i.state === 'waiting')) {
      reachable = true;
      clearTimeout(probeTimer);
      probeTimer = null;
      probeAt = null;
    } else if (!probeTimer) {
      scheduleProbe(pauseSeconds);
    }
  }
  if (!paused && reachable) {
    let running = items.filter((i) => i.state === 'uploading' || i.state === 'processing').length;
    for (const item of items) {
      if (running >= MAX_PARALLEL) break;
      if (item.state === 'queued') {
        start(item);
        running++;
      }
    }
  }
  scheduleRender();
}

function start(item) {
  const xhr = new XMLHttpRequest();
  item.xhr = xhr;
  item.state = 'uploading';
  item.loaded = 0;
  item.attempts++;
  item.message = '';
  remember(item, { state: 'queued', message: '', attempts: item.attempts });
  xhr.open('POST', api.uploadUrl(item.albumId));
  xhr.setRequestHeader('Content-Type', item.type);
  xhr.setRequestHeader('X-Filename', encodeURIComponent(item.name));
  xhr.setRequestHeader('Idempotency-Key', item.key);
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.addEventListener('progress', (event) => {
    item.loaded = event.loaded;
    // Every byte is sent: the node is now encrypting and storing it.
    if (event.lengthComputable && event.loaded >= event.total) item.state = 'processing';
    scheduleRender(item);
  });
  xhr.addEventListener('load', () => finish(item, xhr));
  xhr.addEventListener('error', () => {
    item.xhr = null;
    nodeAway(item, null, 'Your node could not be reached.');
  });
  xhr.addEventListener('abort', () => {
    item.xhr = null;
    if (item.suspended) return;
    if (item.state !== 'cancelled') item.state = 'cancelled';
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
    forget(item);
    item.state = 'done';
    item.loaded = item.size;
    // 200 on the very first attempt: the album already held these exact bytes.
    item.message = status === 200 && item.attempts === 1 && !item.restored ? 'Already in this album' : '';
    nodeBack(item);
    if (photo && photo.id) {
      window.dispatchEvent(new CustomEvent('sover:photo-uploaded',
        { detail: { albumId: item.albumId, photo, created: status === 201 } }));
    }
    pump();
    return;
  }
  const error = errorFrom(status, xhr.responseText);
  // A 404 without the API's error code is the web server itself answering while the node
  // starts (its API is not registered yet): the node is away, not refusing this file.
  const starting = status === 404 && error.code === 'http_404';
  if (RETRYABLE.has(status) || starting) {
    const retryAfter = parseInt(xhr.getResponseHeader('Retry-After') || '', 10);
    nodeAway(item, isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null, error.message);
    return;
  }
  if (status === 401) {
    // The file stays pending; it goes on after the next sign-in (the app reopens the outbox then).
    item.state = 'waiting';
    item.message = 'Your session ended. Sign in again to continue.';
    paused = true;
    notifyUnauthenticated();
    pump();
    return;
  }
  // The node answered, so it is reachable; this file itself was refused (album gone, not a photo, disk full).
  nodeBack(item);
  item.state = 'failed';
  item.message = error.message;
  remember(item, { state: 'failed', message: error.message });
  pump();
}

/** The node answered: if this was the probe, everything that waited goes again. */
function nodeBack(item) {
  if (item === probeItem) probeItem = null;
  if (reachable) return;
  reachable = true;
  pauseSeconds = FIRST_PAUSE_SECONDS;
  clearTimeout(probeTimer);
  probeTimer = null;
  probeAt = null;
  for (const other of items) {
    if (other.state === 'waiting' && !paused) {
      other.state = 'queued';
      other.message = '';
    }
  }
}

/** Network loss or a busy node: everything pending waits, and one file probes later. */
function nodeAway(item, seconds, message) {
  if (item.state === 'cancelled') return;
  item.state = 'waiting';
  item.message = message;
  reachable = false;
  for (const other of items) {
    if (other.state === 'queued') {
      other.state = 'waiting';
      other.message = message;
    }
  }
  const wasProbe = item === probeItem;
  if (wasProbe) probeItem = null;
  if (wasProbe || !probeTimer) {
    const base = seconds !== null ? seconds : pauseSeconds;
    if (seconds === null && wasProbe) pauseSeconds = Math.min(LONGEST_PAUSE_SECONDS, pauseSeconds * 2);
    scheduleProbe(base);
  }
  pump();
}

function scheduleProbe(seconds) {
  clearTimeout(probeTimer);
  // A little jitter, so many browsers of one family do not knock at the same second.
  const delay = Math.round(seconds * 1000 * (0.9 + Math.random() * 0.2));
  probeAt = new Date(Date.now() + delay).toISOString();
  probeTimer = setTimeout(probe, delay);
}

/** Sends one waiting file; its answer decides whether the rest go too. */
function probe() {
  clearTimeout(probeTimer);
  probeTimer = null;
  probeAt = null;
  if (paused || probeItem) return;
  const item = items.find((i) => i.state === 'waiting');
  if (!item) {
    reachable = true;
    pump();
    return;
  }
  probeItem = item;
  start(item);
  pump();
}

window.addEventListener('online', () => {
  if (!reachable && !paused) {
    pauseSeconds = FIRST_PAUSE_SECONDS;
    probe();
  }
});

window.addEventListener('beforeunload', (event) => {
  // Files in the outbox are sent again after a reload; only ones this device could not keep need a warning.
  if (items.some((i) => isPending(i) && !i.persisted && (i.saveFailed || !i.saved))) {
    event.preventDefault();
    event.returnValue = '';
  }
});

/** Tries a failed or cancelled file again with the same Idempotency-Key. */
function retry(item) {
  if (item.state !== 'failed' && item.state !== 'cancelled' && item.state !== 'waiting') return;
  if (item.state === 'cancelled' && userId) persist(item);
  else remember(item, { state: 'queued', message: '' });
  item.state = reachable ? 'queued' : 'waiting';
  item.message = reachable ? '' : item.message;
  if (!reachable) probe();
  pump();
}

/** Cancels a running upload, or takes a pending or failed file out of the outbox. */
function cancel(item) {
  const xhr = item.xhr;
  item.state = 'cancelled';
  item.message = '';
  if (item === probeItem) probeItem = null;
  forget(item);
  if (xhr) xhr.abort();
  pump();
}

function clearFinished() {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item.state === 'done' || item.state === 'cancelled') {
      if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
      items.splice(i, 1);
    }
  }
  renderPanel();
}

// ---- Panel ----------------------------------------------------------------------------------

const STATE_TEXT = {
  queued: 'Pending',
  uploading: 'Uploading',
  processing: 'Saving to your vault…',
  done: 'Uploaded',
  failed: 'Failed',
  waiting: 'Pending',
  cancelled: 'Removed from the outbox',
};

function ensurePanel() {
  if (panel) return;
  const title = h('h2', { class: 'upload-title', 'data-testid': 'upload-title', id: 'upload-title' });
  const note = h('p', { class: 'upload-note', 'data-testid': 'upload-outbox-note', hidden: true });
  const summaryBar = h('div', { class: 'progress-bar' });
  const summary = h('div', { class: 'progress upload-summary-progress', 'data-testid': 'upload-total-progress',
    role: 'progressbar', 'aria-labelledby': 'upload-title', 'aria-valuemin': '0', 'aria-valuemax': '100' }, summaryBar);
  const retryAll = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'upload-retry-all',
    hidden: true, onclick: () => items.filter((i) => i.state === 'failed').forEach(retry) }, icon('retry'), 'Retry all');
  const retryNow = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'upload-retry-now',
    hidden: true, onclick: () => {
      pauseSeconds = FIRST_PAUSE_SECONDS;
      probe();
    } }, icon('retry'), 'Try now');
  const toggle = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-panel-toggle',
    'aria-expanded': 'true', 'aria-label': 'Hide upload list', onclick: () => {
      collapsed = !collapsed;
      renderPanel();
    } }, icon('chevronDown'));
  const close = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-panel-close',
    'aria-label': 'Close upload list', onclick: clearFinished }, icon('close'));
  const list = h('ul', { class: 'upload-list', 'data-testid': 'upload-list' });
  const element = h('section', { class: 'upload-panel', 'data-testid': 'upload-panel', 'aria-labelledby': 'upload-title' },
    h('header', { class: 'upload-head' }, h('div', { class: 'upload-head-text' }, title, note, summary),
      retryNow, retryAll, toggle, close),
    list);
  document.body.append(element);
  panel = { element, title, note, summary, summaryBar, retryAll, retryNow, toggle, close, list };
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
  return item.size > 0 ? Math.min(100, Math.round((item.loaded / item.size) * 100)) : 0;
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
  const pending = items.filter(isPending).length;
  const running = count('uploading') + count('processing');
  const active = pending > 0;
  const total = items.filter((i) => i.state !== 'cancelled').length;
  if (active && (!reachable || paused) && running === 0) {
    panel.title.textContent = plural(pending, 'file', 'files') + ' pending';
  } else if (active) {
    const finished = done + failed;
    panel.title.textContent = 'Uploading ' + Math.min(finished + 1, total).toLocaleString() + ' of ' + total.toLocaleString();
  } else if (failed) {
    panel.title.textContent = (done ? done.toLocaleString() + ' uploaded · ' : '') + failed.toLocaleString() + ' failed';
  } else {
    panel.title.textContent = done ? plural(done, 'file', 'files') + ' uploaded' : 'Nothing to upload';
  }
  let note = '';
  if (active && paused) note = 'Sign in to send them. They are kept on this device until your node has them.';
  else if (active && !reachable) {
    note = 'Your node cannot be reached right now. They are kept on this device and sent when it is back' +
      (probeAt ? ' (next try ' + formatWhen(probeAt) + ').' : '.');
  }
  panel.note.textContent = note;
  panel.note.hidden = !note;
  const counted = items.filter((i) => i.state !== 'cancelled' && i.state !== 'failed');
  const bytesTotal = counted.reduce((sum, i) => sum + i.size, 0);
  const bytesSent = counted.reduce((sum, i) => sum + (i.state === 'done' || i.state === 'processing' ? i.size : i.loaded), 0);
  const overall = bytesTotal ? Math.round((bytesSent / bytesTotal) * 100) : 100;
  panel.summaryBar.style.width = overall + '%';
  panel.summary.setAttribute('aria-valuenow', String(overall));
  panel.summary.hidden = !active;
  panel.element.dataset.state = active ? 'active' : failed ? 'failed' : 'done';
  panel.element.dataset.reachable = String(reachable);
  panel.retryAll.hidden = active || failed < 2;
  panel.retryNow.hidden = !(active && !reachable && !paused);
  panel.close.hidden = active || failed > 0;
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
  const type = item.type;
  const preview = h('div', { class: 'upload-thumb' },
    icon(type.startsWith('video/') ? 'video' : type.startsWith('image/') ? 'image' : 'file'));
  if (/^image\/(jpeg|png|gif|webp|avif|bmp)$/.test(type) && item.size < 40 * 1024 * 1024) {
    item.previewUrl = URL.createObjectURL(item.file);
    const img = h('img', { src: item.previewUrl, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.remove());
    preview.append(img);
  }
  const bar = h('div', { class: 'progress-bar' });
  const progress = h('div', { class: 'progress', role: 'progressbar', 'data-testid': 'upload-progress',
    'aria-label': 'Upload progress of ' + item.name, 'aria-valuemin': '0', 'aria-valuemax': '100' }, bar);
  const status = h('p', { class: 'upload-status', 'data-testid': 'upload-status' });
  const retryButton = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'upload-retry',
    onclick: () => retry(item) }, icon('retry'), 'Retry');
  const cancelButton = h('button', { class: 'icon-btn icon-btn-sm', type: 'button', 'data-testid': 'upload-cancel',
    onclick: () => cancel(item) }, icon('close'));
  const stateIcon = h('span', { class: 'upload-state-icon', 'aria-hidden': 'true' });
  const row = h('li', { class: 'upload-item', 'data-testid': 'upload-item', 'data-upload-key': item.key },
    preview,
    h('div', { class: 'upload-main' },
      h('div', { class: 'upload-line' },
        h('span', { class: 'upload-name', 'data-testid': 'upload-name', title: item.name, text: item.name }),
        h('span', { class: 'upload-size', text: formatBytes(item.size) })),
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
  item.row.dataset.pending = String(isPending(item));
  bar.style.width = pct + '%';
  progress.setAttribute('aria-valuenow', String(pct));
  progress.hidden = item.state === 'done' || item.state === 'failed' || item.state === 'cancelled';
  let text = STATE_TEXT[item.state];
  if (item.state === 'queued') text = item.restored ? 'Pending · from an earlier visit, to ' + item.albumName : 'Pending · to ' + item.albumName;
  if (item.state === 'uploading') text = pct + '% · to ' + item.albumName;
  if (item.state === 'done') text = item.message || 'Uploaded to ' + item.albumName;
  if (item.state === 'failed') text = item.message + ' (to ' + item.albumName + ')';
  if (item.state === 'waiting') {
    text = 'Pending · ' + item.message + (paused ? '' : ' Sover will send it again by itself.');
  }
  if (isPending(item) && item.saveFailed) {
    text += ' Keep this page open: this browser could not keep a copy.';
  }
  status.textContent = text;
  status.classList.toggle('upload-status-error', item.state === 'failed');
  retryButton.hidden = !(item.state === 'failed' || item.state === 'cancelled');
  cancelButton.hidden = !(isPending(item) && item.state !== 'processing') && item.state !== 'failed';
  const cancelLabel = item.state === 'uploading' ? 'Cancel upload of ' + item.name : 'Remove ' + item.name + ' from the outbox';
  cancelButton.setAttribute('aria-label', cancelLabel);
  cancelButton.title = cancelLabel;
  clear(stateIcon);
  if (item.state === 'done') stateIcon.append(icon('check'));
  if (item.state === 'failed') stateIcon.append(icon('alert'));
}
