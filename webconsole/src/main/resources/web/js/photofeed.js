// A cursor-paged photo grid that stays smooth with tens of thousands of photos: pages are appended
// as the user scrolls (never re-rendering what is already there), thumbnails load lazily, and
// off-screen tiles skip rendering through CSS content-visibility. Each tile carries a replication
// badge kept current from the node's live events.
import { api } from './api.js';
import { h, icon, clear } from './dom.js';
import { onEvent, coalesce, connectionState } from './events.js';
import { isVideo, fileTypeLabel, parseDate, dayKey, monthKey, formatDay, formatMonth, formatShortDate } from './format.js';
import { replicationBadge, updateBadge } from './replication.js';

const PAGE_SIZE = 200;
// Job events for up to this many photos are answered with one GET /v1/photos/{id} each; more at
// once (a peer came back and 5,000 jobs finish) refresh whole visible pages instead.
const SINGLE_REFRESH_LIMIT = 24;
const PARALLEL_REFRESHES = 4;

function takenTime(photo) {
  const date = parseDate(photo.takenAt) || parseDate(photo.uploadedAt);
  return date ? date.getTime() : 0;
}

export function photoPlaceholder(photo, cls = 'tile-placeholder') {
  return h('span', { class: cls, 'data-testid': 'photo-placeholder' },
    icon(isVideo(photo) ? 'video' : 'image'),
    h('span', { class: 'tile-type', text: fileTypeLabel(photo) }));
}

function tileLabel(photo, replicationText) {
  return (photo.filename || 'Photo') + (photo.takenAt ? ', ' + formatShortDate(photo.takenAt) : '') +
    (replicationText ? ', ' + replicationText : '');
}

function buildTile(photo) {
  const tile = h('button', { class: 'tile', type: 'button', 'data-testid': 'photo-tile', 'data-photo-id': photo.id,
    title: photo.filename || '' });
  if (photo.hasThumbnail) {
    tile.append(h('img', { class: 'tile-img', src: api.thumbnailUrl(photo.id), alt: '', loading: 'lazy',
      decoding: 'async', draggable: 'false' }));
  } else {
    tile.append(photoPlaceholder(photo));
  }
  if (isVideo(photo)) tile.append(h('span', { class: 'tile-badge', 'aria-hidden': 'true' }, icon('play')));
  const badge = replicationBadge(photo);
  tile.append(badge);
  tile.setAttribute('aria-label', tileLabel(photo, badge.textContent));
  return tile;
}

export class PhotoFeed {
  /**
   * @param fetchPage (cursor, limit) => Promise<{items, next}>
   * @param groupByDay show month and day headings (the timeline)
   * @param onOpen (index) => void, when a tile is activated
   * @param empty () => Element shown when there are no photos
   */
  constructor({ fetchPage, groupByDay = false, onOpen, empty, testid = 'photo-feed', live = true }) {
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
    // Replication refresh: the cursor each page was loaded with, so a page can be asked for again.
    this.pages = []; // {cursor, stale, generation, refreshing}
    this.pageOf = new Map(); // photo id -> index in this.pages (photos inserted after an upload: none)
    this.staleSingles = new Set(); // inserted photos whose replication is out of date
    this.wantedSingles = new Set(); // photos named by job events, fetched one by one
    this.unsubscribe = [];
    this.photoListeners = new Set();
    this.live = live;
    this.seenHello = false;
    this.scrollTimer = null;

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
    if (this.live) this.listen();
    return this.loadMore();
  }

  destroy() {
    this.destroyed = true;
    this.observer.disconnect();
    this.listeners.clear();
    this.photoListeners.clear();
    this.unsubscribe.forEach((fn) => fn());
    this.unsubscribe = [];
    if (this.flushSingles) this.flushSingles.cancel();
    if (this.flushBulk) this.flushBulk.cancel();
    clearTimeout(this.scrollTimer);
  }

  // ---- Live replication -------------------------------------------------------------------

  /** Listens to the node's events and keeps the badges current without reloading the grid. */
  listen() {
    this.flushSingles = coalesce(() => this.refreshSingles(), 400);
    this.flushBulk = coalesce(() => {
      this.markAllStale();
      this.refreshVisible();
    }, 1500);
    const onJob = (data) => {
      if (!data || !data.photoId || !this.tiles.has(data.photoId)) return;
      this.wantedSingles.add(data.photoId);
      this.flushSingles();
    };
    // Many jobs at once, a peer going up or down, bytes arriving from a peer, a reconnected stream.
    const onBulk = () => this.flushBulk();
    // A hello on a stream that was already open when this grid loaded means it reconnected.
    this.seenHello = connectionState() === 'live';
    this.unsubscribe.push(onEvent('job', onJob), onEvent('jobs', onBulk), onEvent('peer', onBulk),
      onEvent('blob', onBulk), onEvent('hello', () => {
        // The first hello of a page needs nothing: the photos were just loaded.
        if (this.seenHello) onBulk();
        this.seenHello = true;
      }));
    const onScroll = () => {
      if (this.scrollTimer || !this.hasStale()) return;
      this.scrollTimer = setTimeout(() => {
        this.scrollTimer = null;
        this.refreshVisible();
      }, 300);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible' && this.hasStale()) this.refreshVisible();
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    document.addEventListener('visibilitychange', onVisible);
    this.unsubscribe.push(() => window.removeEventListener('scroll', onScroll),
      () => document.removeEventListener('visibilitychange', onVisible));
  }

  hasStale() {
    return this.staleSingles.size > 0 || this.pages.some((p) => p.stale);
  }

  markAllStale() {
    for (const page of this.pages) {
      page.stale = true;
      page.generation++;
    }
    for (const photo of this.photos) {
      if (!this.pageOf.has(photo.id)) this.staleSingles.add(photo.id);
    }
  }

  /** Fetches the photos named by job events, a few at a time; too many become a page refresh. */
  async refreshSingles() {
    if (this.destroyed) return;
    const ids = [...this.wantedSingles].filter((id) => this.tiles.has(id));
    this.wantedSingles.clear();
    if (ids.length > SINGLE_REFRESH_LIMIT) {
      for (const id of ids) this.markStale(id);
      this.refreshVisible();
      return;
    }
    await this.fetchEach(ids);
  }

  markStale(id) {
    const index = this.pageOf.get(id);
    if (index === undefined) {
      this.staleSingles.add(id);
      return;
    }
    const page = this.pages[index];
    page.stale = true;
    page.generation++;
  }

  async fetchEach(ids) {
    const queue = [...ids];
    const worker = async () => {
      while (queue.length && !this.destroyed) {
        const id = queue.shift();
        try {
          this.applyReplication(await api.photo(id));
        } catch (error) {
          // 404: deleted meanwhile (the grid learns on its next load); others: the next event retries.
          if (error.status === 401) return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_REFRESHES, queue.length) }, worker));
    if (!this.destroyed && ids.length) this.emit('replication');
  }

  /** Refreshes the stale photos on screen: their pages again (one request per 200), inserted ones singly. */
  async refreshVisible() {
    if (this.destroyed || document.visibilityState === 'hidden' || !this.element.isConnected) return;
    const [first, last] = this.visibleRange();
    if (first < 0) return;
    const pageIndexes = new Set();
    const singles = [];
    for (let i = first; i <= last; i++) {
      const id = this.photos[i].id;
      const index = this.pageOf.get(id);
      if (index !== undefined) {
        if (this.pages[index].stale) pageIndexes.add(index);
      } else if (this.staleSingles.has(id)) {
        this.staleSingles.delete(id);
        singles.push(id);
      }
    }
    const work = [...pageIndexes].map((index) => this.refreshPage(index));
    if (singles.length) work.push(this.fetchEach(singles));
    await Promise.all(work);
  }

  async refreshPage(index) {
    const page = this.pages[index];
    if (!page || page.refreshing) return;
    page.refreshing = true;
    const generation = page.generation;
    try {
      const result = await this.fetchPage(page.cursor, PAGE_SIZE);
      if (this.destroyed) return;
      for (const photo of (result && Array.isArray(result.items) ? result.items : [])) {
        if (this.tiles.has(photo.id)) this.applyReplication(photo);
      }
      if (page.generation === generation) page.stale = false;
      this.emit('replication');
    } catch (_) {
      // Stays stale: tried again on the next scroll or event.
    } finally {
      page.refreshing = false;
    }
  }

  /** Indexes of the first and last photo whose tiles are on screen, or [-1, -1]. Tiles are in photo order. */
  visibleRange() {
    const n = this.photos.length;
    if (n === 0) return [-1, -1];
    const height = window.innerHeight || document.documentElement.clientHeight;
    const rectOf = (i) => {
      const tile = this.tiles.get(this.photos[i].id);
      return tile ? tile.getBoundingClientRect() : null;
    };
    let lo = 0;
    let hi = n - 1;
    let first = n;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const rect = rectOf(mid);
      if (rect && rect.bottom >= 0) {
        first = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    if (first >= n) return [-1, -1];
    let last = first;
    while (last + 1 < n) {
      const rect = rectOf(last + 1);
      if (!rect || rect.top > height) break;
      last++;
    }
    return [first, last];
  }

  /** Takes a fresher copy of a photo (from GET /v1/photos/{id} or a page) and updates its badge. */
  applyReplication(photo) {
    if (!photo || !photo.id) return;
    const index = this.indexOf(photo.id);
    const tile = this.tiles.get(photo.id);
    if (index < 0 || !tile) return;
    this.photos[index] = { ...this.photos[index], ...photo };
    this.staleSingles.delete(photo.id);
    const badge = tile.querySelector('.repl-badge');
    if (badge) {
      updateBadge(badge, this.photos[index]);
      tile.setAttribute('aria-label', tileLabel(this.photos[index], badge.textContent));
    }
    for (const listener of this.photoListeners) listener(this.photos[index]);
  }

  /** fn(photo) whenever a photo's replication was refreshed (the viewer listens while open). */
  onPhotoChange(fn) {
    this.photoListeners.add(fn);
    return () => this.photoListeners.delete(fn);
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
    const cursor = this.next;
    this.loading = this.fetchPage(cursor, PAGE_SIZE).then((page) => {
      if (this.destroyed) return false;
      const items = Array.isArray(page && page.items) ? page.items : [];
      this.next = page && page.next ? page.next : null;
      this.done = !this.next;
      this.pages.push({ cursor, stale: false, generation: 0, refreshing: false });
      const added = this.appendPage(items, this.pages.length - 1);
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

  appendPage(items, pageIndex) {
    const fresh = items.filter((p) => p && p.id && !this.tiles.has(p.id));
    for (const photo of fresh) this.pageOf.set(photo.id, pageIndex);
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
    this.pageOf.delete(id);
    this.staleSingles.delete(id);
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
    if (index >= 0 && photo.replication) this.applyReplication(photo);
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
