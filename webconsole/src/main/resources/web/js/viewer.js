// The full-screen photo viewer: the original (or the video), its details, previous/next with
// buttons, arrow keys and swipes, download, move to another album and delete.
import { api } from './api.js';
import { h, icon, clear } from './dom.js';
import { confirmDialog, toast, toastError } from './ui.js';
import { formatBytes, formatDateTime, formatDimensions, isBrowserImage, isVideo, fileTypeLabel, plural } from './format.js';
import { replicationDetails } from './replication.js';

let active = null;

/** Closes the viewer if one is open (e.g. when the route changes or the session ends). */
export function closeViewer() {
  if (active) active.close();
}

/**
 * @param feed a PhotoFeed (photos, hasMore, loadMore, remove, update)
 * @param index the photo to show first
 * @param albumId the album being browsed, or null on the timeline
 * @param onAlbumChanged (delta) => void, told when a photo leaves this album
 */
export function openViewer({ feed, index, albumId = null, onAlbumChanged = () => {} }) {
  closeViewer();
  let current = index;
  let albums = null;
  let busy = false;

  const filename = h('h2', { class: 'viewer-filename', 'data-testid': 'viewer-filename' });
  const subtitle = h('p', { class: 'viewer-subtitle', 'data-testid': 'viewer-date' });
  const download = h('a', { class: 'viewer-btn', 'data-testid': 'viewer-download', 'aria-label': 'Download original',
    title: 'Download original' }, icon('download'), h('span', { class: 'viewer-btn-label', text: 'Download' }));
  const moveSelect = h('select', { class: 'viewer-move-select', 'data-testid': 'viewer-move',
    'aria-label': 'Move to another album' });
  const moveControl = h('label', { class: 'viewer-btn viewer-move', title: 'Move to another album' },
    icon('move'), h('span', { class: 'viewer-btn-label', text: 'Move' }), moveSelect);
  const deleteButton = h('button', { class: 'viewer-btn viewer-btn-danger', type: 'button', 'data-testid': 'viewer-delete',
    'aria-label': 'Delete photo', title: 'Delete photo' }, icon('trash'),
  h('span', { class: 'viewer-btn-label', text: 'Delete' }));
  const closeButton = h('button', { class: 'viewer-btn viewer-close', type: 'button', 'data-testid': 'viewer-close',
    'aria-label': 'Close', title: 'Close (Esc)' }, icon('close'));
  const prev = h('button', { class: 'viewer-nav viewer-prev', type: 'button', 'data-testid': 'viewer-prev',
    'aria-label': 'Previous photo', title: 'Previous (←)' }, icon('left'));
  const next = h('button', { class: 'viewer-nav viewer-next', type: 'button', 'data-testid': 'viewer-next',
    'aria-label': 'Next photo', title: 'Next (→)' }, icon('right'));
  const media = h('div', { class: 'viewer-media', 'data-testid': 'viewer-media' });
  const details = h('dl', { class: 'viewer-details', 'data-testid': 'viewer-details' });
  const replicationSlot = h('dd', { class: 'viewer-replication-slot' });

  const dialog = h('dialog', { class: 'viewer', 'data-testid': 'viewer', 'aria-label': 'Photo viewer' },
    h('div', { class: 'viewer-top' },
      closeButton,
      h('div', { class: 'viewer-heading' }, filename, subtitle),
      h('div', { class: 'viewer-actions' }, download, moveControl, deleteButton)),
    h('div', { class: 'viewer-stage' }, prev, media, next),
    details);

  function photo() {
    return feed.photos[current];
  }

  function detail(term, value, testid) {
    if (!value) return [];
    return [h('dt', { text: term }), h('dd', { 'data-testid': testid, text: value })];
  }

  function render() {
    const p = photo();
    if (!p) {
      close();
      return;
    }
    filename.textContent = p.filename || 'Untitled';
    renderSubtitle(p);
    download.href = api.originalUrl(p.id);
    download.setAttribute('download', p.filename || 'photo');
    prev.disabled = current <= 0;
    next.disabled = current >= feed.photos.length - 1 && !feed.hasMore;
    renderMedia(p);
    clear(details).append(...[
      ...detail('Dimensions', formatDimensions(p), 'viewer-dimensions'),
      ...detail('Size', formatBytes(p.size), 'viewer-size'),
      ...detail('Type', fileTypeLabel(p), 'viewer-type'),
      ...detail('Position', (current + 1).toLocaleString() + ' of ' +
        (feed.hasMore ? 'many' : plural(feed.photos.length, 'photo', 'photos')), 'viewer-position'),
      h('dt', { text: 'Stored on' }), replicationSlot,
    ]);
    renderReplication(p);
    refreshReplicationSoon(p);
    renderMoveOptions(p);
    preloadNeighbour(current + 1);
  }

  function renderReplication(p) {
    replicationSlot.replaceChildren(replicationDetails(p));
  }

  // A photo shown for a moment gets its replication fresh from the node (not on every arrow press).
  let freshTimer = null;
  function refreshReplicationSoon(p) {
    clearTimeout(freshTimer);
    if (!feed.applyReplication) return;
    freshTimer = setTimeout(() => {
      if (active !== handle || photo() !== p) return;
      api.photo(p.id).then((fresh) => {
        if (active === handle) feed.applyReplication(fresh);
      }, () => { /* keeps what the grid knew */ });
    }, 400);
  }

  function renderSubtitle(p) {
    const album = albums && albums.find((a) => a.id === p.albumId);
    subtitle.textContent = formatDateTime(p.takenAt) + (album ? ' · ' + album.name : '');
  }

  function renderMedia(p) {
    clear(media);
    media.className = 'viewer-media';
    if (isVideo(p)) {
      const video = h('video', { class: 'viewer-video', 'data-testid': 'viewer-video', controls: true, playsinline: true,
        preload: 'metadata', src: api.originalUrl(p.id) });
      video.addEventListener('error', () => renderUnsupported(p, 'This video can’t be played in this browser.'));
      media.append(video);
      return;
    }
    if (!isBrowserImage(p)) {
      renderUnsupported(p, fileTypeLabel(p) + ' photos can’t be shown in this browser.');
      return;
    }
    // The thumbnail shows at once; the original fades in over it when it has loaded.
    media.classList.add('is-loading');
    if (p.hasThumbnail) {
      media.append(h('img', { class: 'viewer-img viewer-img-preview', src: api.thumbnailUrl(p.id), alt: '' }));
    }
    const spinner = h('span', { class: 'spinner spinner-light', 'aria-hidden': 'true' });
    const img = h('img', { class: 'viewer-img viewer-img-full', 'data-testid': 'viewer-image', alt: p.filename || '',
      decoding: 'async', src: api.originalUrl(p.id) });
    img.addEventListener('load', () => {
      media.classList.remove('is-loading');
      spinner.remove();
      const preview = media.querySelector('.viewer-img-preview');
      if (preview) preview.remove();
    });
    img.addEventListener('error', () => {
      if (photo() === p) renderUnsupported(p, 'This photo could not be loaded.');
    });
    media.append(img, spinner);
  }

  function renderUnsupported(p, message) {
    clear(media);
    media.className = 'viewer-media';
    media.append(h('div', { class: 'viewer-unsupported', 'data-testid': 'viewer-unsupported' },
      h('div', { class: 'viewer-unsupported-icon' }, icon(isVideo(p) ? 'video' : 'image'),
        h('span', { class: 'tile-type', text: fileTypeLabel(p) })),
      h('p', { class: 'viewer-unsupported-title', text: message }),
      h('p', { class: 'viewer-unsupported-text', text: 'It is stored safely. Download it to open it on your device.' }),
      h('a', { class: 'btn btn-primary', href: api.originalUrl(p.id), download: p.filename || 'photo',
        'data-testid': 'viewer-unsupported-download' }, icon('download'), 'Download')));
  }

  function preloadNeighbour(i) {
    const n = feed.photos[i];
    if (n && isBrowserImage(n)) new Image().src = api.originalUrl(n.id);
  }

  function renderMoveOptions(p) {
    clear(moveSelect);
    moveSelect.append(h('option', { value: '', selected: true, disabled: true, text: 'Move to album…' }));
    if (!albums) {
      moveSelect.append(h('option', { value: '', disabled: true, text: 'Loading albums…' }));
      return;
    }
    const others = albums.filter((a) => a.id !== p.albumId);
    if (others.length === 0) {
      moveSelect.append(h('option', { value: '', disabled: true, text: 'No other albums' }));
    }
    for (const album of others) {
      moveSelect.append(h('option', { value: album.id, 'data-testid': 'viewer-move-option', text: album.name }));
    }
  }

  async function go(step) {
    if (busy) return;
    const target = current + step;
    if (target < 0) return;
    if (target >= feed.photos.length) {
      if (!feed.hasMore) return;
      busy = true;
      await feed.loadMore();
      busy = false;
      if (target >= feed.photos.length) return;
    }
    current = target;
    render();
  }

  /** After a photo leaves this list, show the one that took its place (or the one before). */
  function afterRemoval() {
    if (feed.photos.length === 0) {
      close();
      return;
    }
    current = Math.min(current, feed.photos.length - 1);
    render();
  }

  async function deletePhoto() {
    const p = photo();
    const ok = await confirmDialog({
      title: 'Delete this photo?',
      message: '“' + p.filename + '” will be deleted from all of your family’s nodes. This can’t be undone.',
      confirmLabel: 'Delete photo', danger: true, testid: 'photo-delete-dialog',
    });
    if (!ok) return;
    try {
      await api.deletePhoto(p.id);
      feed.remove(p.id);
      onAlbumChanged(-1, p);
      toast('Photo deleted.');
      afterRemoval();
    } catch (error) {
      toastError(error);
    }
  }

  async function movePhoto() {
    const p = photo();
    const targetId = moveSelect.value;
    if (!targetId) return;
    const target = (albums || []).find((a) => a.id === targetId);
    moveSelect.disabled = true;
    try {
      const moved = await api.movePhoto(p.id, targetId);
      toast('Moved to “' + (target ? target.name : 'album') + '”.');
      if (albumId) {
        feed.remove(p.id);
        onAlbumChanged(-1, p);
        afterRemoval();
      } else {
        feed.update(moved && moved.id ? moved : { ...p, albumId: targetId });
        render();
      }
    } catch (error) {
      toastError(error);
      renderMoveOptions(p);
    } finally {
      moveSelect.disabled = false;
    }
  }

  function onKey(event) {
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLVideoElement) return;
    if (event.key === 'ArrowLeft') {
      event.preventDefault();
      go(-1);
    } else if (event.key === 'ArrowRight') {
      event.preventDefault();
      go(1);
    }
  }

  // Swipe left/right on touch screens.
  let touchStart = null;
  media.addEventListener('touchstart', (event) => {
    if (event.touches.length === 1) touchStart = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  media.addEventListener('touchend', (event) => {
    if (!touchStart || event.changedTouches.length !== 1) return;
    const dx = event.changedTouches[0].clientX - touchStart.x;
    const dy = event.changedTouches[0].clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > 50 && Math.abs(dy) < 80) go(dx < 0 ? 1 : -1);
  }, { passive: true });

  // The grid refreshes replication from live events; show the change for the photo on screen.
  const stopWatching = feed.onPhotoChange ? feed.onPhotoChange((changed) => {
    if (photo() && changed.id === photo().id) renderReplication(photo());
  }) : () => {};

  function close() {
    if (active !== handle) return;
    active = null;
    stopWatching();
    clearTimeout(freshTimer);
    document.documentElement.classList.remove('no-scroll');
    if (dialog.open) dialog.close();
    dialog.remove();
    const tile = photo() && feed.tiles.get(photo().id);
    if (tile && tile.isConnected) tile.focus({ preventScroll: false });
  }

  closeButton.addEventListener('click', close);
  prev.addEventListener('click', () => go(-1));
  next.addEventListener('click', () => go(1));
  deleteButton.addEventListener('click', deletePhoto);
  moveSelect.addEventListener('change', movePhoto);
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    close();
  });
  // Arrow keys work wherever focus is inside the viewer (but not in the album picker or a video).
  dialog.addEventListener('keydown', onKey);

  const handle = { close };
  active = handle;
  document.body.append(dialog);
  document.documentElement.classList.add('no-scroll');
  dialog.showModal();
  closeButton.focus();
  render();

  api.albums().then((list) => {
    if (active !== handle) return;
    albums = Array.isArray(list) ? list : [];
    if (photo()) {
      renderMoveOptions(photo());
      renderSubtitle(photo());
    }
  }, (error) => {
    if (active !== handle) return;
    albums = [];
    toastError(error);
  });
}
