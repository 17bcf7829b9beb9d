// A cursor-paged photo grid that stays smooth with tens of thousands of photos: pages are appended
// as the user scrolls (never re-rendering what is already there), thumbnails load lazily, and
// off-screen tiles skip rendering through CSS content-visibility.
import { api } from './api.js';
import { h, icon, clear } from './dom.js';
import { isVideo, fileTypeLabel, parseDate, dayKey, monthKey, formatDay, formatMonth, formatShortDate } from './format.js';

const PAGE_SIZE = 200;

function takenTime(photo) {
  const date = parseDate(photo.takenAt) || parseDate(photo.uploadedAt);
  return date ? date.getTime() : 0;
}

export function photoPlaceholder(photo, cls = 'tile-placeholder') {
  return h('span', { class: cls, 'data-testid': 'photo-placeholder' },
    icon(isVideo(photo) ? 'video' : 'image'),
    h('span', { class: 'tile-type', text: fileTypeLabel(photo) }));
}

function buildTile(photo) {
  const label = (photo.filename || 'Photo') + (photo.takenAt ? ', ' + formatShortDate(photo.takenAt) : '');
  const tile = h('button', { class: 'tile', type: 'button', 'data-testid': 'photo-tile', 'data-photo-id': photo.id,
    'aria-label': label, title: photo.filename || '' });
  if (photo.hasThumbnail) {
    tile.append(h('img', { class: 'tile-img', src: api.thumbnailUrl(photo.id), alt: '', loading: 'lazy',
      decoding: 'async', draggable: 'false' }));
  } else {
    tile.append(photoPlaceholder(photo));
  }
  if (isVideo(photo)) tile.append(h('span', { class: 'tile-badge', 'aria-hidden': 'true' }, icon('play')));
  return tile;
}

export class PhotoFeed {
  /**
   * @param fetchPage (cursor, limit) => Promise<{items, next}>
   * @param groupByDay show month and day headings (the timeline)
   * @param onOpen (index) => void, when a tile is activated
   * @param empty () => Element shown when there are no photos
   */
  constructor({ fetchPage, groupByDay = false, onOpen, empty, testid = 'photo-feed' }) {
    this.fetchPage = fetchPage;
    this.groupByDay = groupByDay;
    this.onOpen = onOpen;
    this.empty = empty;
    this.photos = [];
    this.tiles = new Map();
    this.next = null;
    this.done = false;
    this.loading = null;
    this.destroyed = false;
    this.listeners = new Set();

    this.body = h('div', { class: groupByDay ? 'feed-groups' : 'photo-grid', 'data-testid': testid + '-grid' });
    this.emptySlot = h('div', { class: 'feed-empty', hidden: true });
    this.status = h('div', { class: 'feed-status', 'data-testid': 'feed-status' });
    this.sentinel = h('div', { class: 'feed-sentinel', 'aria-hidden': 'true' });
    this.element = h('div', { class: 'feed', 'data-testid': testid }, this.emptySlot, this.body, this.sentinel, this.status);

    this.element.addEventListener('click', (event) => {
      const tile = event.target.closest('.tile');
      if (!tile || !this.element.contains(tile)) return;
      const index = this.indexOf(tile.dataset.photoId);
      if (index >= 0) this.onOpen(index);
    });
    // A thumbnail that fails (no_thumbnail, a deleted photo) becomes a clean placeholder tile.
    this.element.addEventListener('error', (event) => {
      const img = event.target;
      if (!(img instanceof HTMLImageElement) || !img.classList.contains('tile-img')) return;
      const tile = img.closest('.tile');
      const photo = tile && this.photos[this.indexOf(tile.dataset.photoId)];
      img.replaceWith(photo ? photoPlaceholder(photo) : h('span', { class: 'tile-placeholder' }, icon('image')));
    }, true);

    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { rootMargin: '0px 0px 1600px 0px' });
  }

  get hasMore() {
    return !this.done;
  }

  /** Notified with (event) after changes: 'loaded', 'removed', 'inserted'. */
  onChange(listener) {
    this.listeners.add(listener);
  }

  emit(kind) {
    for (const listener of this.listeners) listener(kind);
  }

  start() {
    this.observer.observe(this.sentinel);
    return this.loadMore();
  }

  destroy() {
    this.destroyed = true;
    this.observer.disconnect();
    this.listeners.clear();
  }

  indexOf(id) {
    return this.photos.findIndex((p) => p.id === id);
  }

  /** Loads the next page; resolves true when photos were added. Concurrent calls share one request. */
  loadMore() {
    if (this.done || this.destroyed) return Promise.resolve(false);
    if (this.loading) return this.loading;
    const first = this.photos.length === 0 && this.next === null;
    this.showStatus(first ? 'Loading photos…' : 'Loading more…', true);
    this.loading = this.fetchPage(this.next, PAGE_SIZE).then((page) => {
      if (this.destroyed) return false;
      const items = Array.isArray(page && page.items) ? page.items : [];
      this.next = page && page.next ? page.next : null;
      this.done = !this.next;
      const added = this.appendPage(items);
      this.showStatus('');
      this.updateEmpty();
      this.emit('loaded');
      return added > 0;
    }, (error) => {
      if (this.destroyed) return false;
      this.showError(error);
      return false;
    }).finally(() => {
      this.loading = null;
      if (!this.done && !this.destroyed && !this.status.dataset.error) {
        // Re-observing reports the sentinel again if it is still near the viewport.
        this.observer.unobserve(this.sentinel);
        this.observer.observe(this.sentinel);
      }
    });
    return this.loading;
  }

  appendPage(items) {
    const fresh = items.filter((p) => p && p.id && !this.tiles.has(p.id));
    if (!this.groupByDay) {
      const fragment = document.createDocumentFragment();
      for (const photo of fresh) {
        const tile = buildTile(photo);
        this.tiles.set(photo.id, tile);
        this.photos.push(photo);
        fragment.append(tile);
      }
      this.body.append(fragment);
      return fresh.length;
    }
    for (const photo of fresh) {
      const tile = buildTile(photo);
      this.tiles.set(photo.id, tile);
      this.photos.push(photo);
      this.dayGridFor(photo).append(tile);
    }
    return fresh.length;
  }

  /** The grid of the day a photo belongs to; pages arrive newest first, so only the last day can continue. */
  dayGridFor(photo) {
    const date = new Date(takenTime(photo));
    const day = dayKey(date);
    const month = monthKey(date);
    let monthSection = this.body.lastElementChild;
    if (!monthSection || monthSection.dataset.month !== month) {
      monthSection = h('section', { class: 'feed-month', 'data-month': month, 'data-testid': 'timeline-month' },
        h('h2', { class: 'feed-month-title', text: formatMonth(date) }));
      this.body.append(monthSection);
    }
    let daySection = monthSection.lastElementChild;
    if (!daySection || daySection.dataset.day !== day) {
      daySection = h('section', { class: 'feed-day', 'data-day': day, 'data-testid': 'timeline-day' },
        h('h3', { class: 'feed-day-title', text: formatDay(date) }),
        h('div', { class: 'photo-grid' }));
      monthSection.append(daySection);
    }
    return daySection.lastElementChild;
  }

  /** Adds a photo uploaded while the grid is open, at its place in capture-time order. */
  insert(photo) {
    if (this.tiles.has(photo.id) || this.groupByDay) return false;
    const time = takenTime(photo);
    const index = this.photos.findIndex((p) => takenTime(p) < time);
    if (index < 0 && !this.done) return false; // it belongs to a page not loaded yet
    const tile = buildTile(photo);
    tile.classList.add('tile-new');
    this.tiles.set(photo.id, tile);
    if (index < 0) {
      this.photos.push(photo);
      this.body.append(tile);
    } else {
      this.body.insertBefore(tile, this.tiles.get(this.photos[index].id));
      this.photos.splice(index, 0, photo);
    }
    this.updateEmpty();
    this.emit('inserted');
    return true;
  }

  remove(id) {
    const index = this.indexOf(id);
    if (index < 0) return;
    const tile = this.tiles.get(id);
    this.photos.splice(index, 1);
    this.tiles.delete(id);
    const grid = tile.parentElement;
    tile.remove();
    if (this.groupByDay && grid && !grid.firstElementChild) {
      const daySection = grid.parentElement;
      const monthSection = daySection.parentElement;
      daySection.remove();
      if (monthSection.querySelectorAll('.feed-day').length === 0) monthSection.remove();
    }
    this.updateEmpty();
    this.emit('removed');
  }

  update(photo) {
    const index = this.indexOf(photo.id);
    if (index >= 0) this.photos[index] = photo;
  }

  updateEmpty() {
    const isEmpty = this.photos.length === 0 && this.done;
    if (isEmpty && this.emptySlot.hidden) {
      clear(this.emptySlot).append(this.empty());
    }
    this.emptySlot.hidden = !isEmpty;
    this.body.hidden = isEmpty;
  }

  showStatus(text, spinning = false) {
    clear(this.status);
    delete this.status.dataset.error;
    if (!text) return;
    this.status.append(h('div', { class: 'state state-inline', role: 'status', 'data-testid': 'loading' },
      spinning ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null, h('span', { text })));
  }

  showError(error) {
    clear(this.status);
    this.status.dataset.error = 'true';
    this.status.append(h('div', { class: 'state state-inline state-error', role: 'alert' },
      icon('alert'),
      h('span', { 'data-testid': 'error-message', text: error.message || String(error) }),
      h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'feed-retry',
        onclick: () => {
          this.showStatus('');
          this.observer.unobserve(this.sentinel);
          this.observer.observe(this.sentinel);
          this.loadMore();
        } }, 'Try again')));
  }
}
