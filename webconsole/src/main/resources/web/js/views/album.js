// One album: its photo grid, upload (button and drag-and-drop), rename and delete.
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { plural } from '../format.js';
import { PhotoFeed } from '../photofeed.js';
import { coalesce, onEvent } from '../events.js';
import { albumSummary } from '../replication.js';
import { emptyState, errorState, loadingState, actionMenu } from '../ui.js';
import { enqueueUploads } from '../upload.js';
import { openViewer } from '../viewer.js';
import { deleteAlbumConfirmed, renameAlbumDialog } from './albums.js';

export function renderAlbum(root, params, app) {
  const albumId = params.id;
  let album = null;
  let feed = null;
  const cleanups = [];

  const page = h('div', { class: 'page page-album' });
  root.append(page);

  function fileInput() {
    const input = h('input', { class: 'visually-hidden', type: 'file', multiple: true, accept: 'image/*,video/*',
      id: 'upload-input', 'data-testid': 'upload-input', tabindex: '-1' });
    input.addEventListener('change', () => {
      upload(input.files);
      input.value = '';
    });
    return input;
  }

  function upload(files) {
    if (album && files && files.length) enqueueUploads(files, album);
  }

  const title = h('h1', { class: 'page-title', 'data-testid': 'album-title' });
  const meta = h('p', { class: 'page-subtitle', 'data-testid': 'album-meta' });
  const replication = h('p', { class: 'album-replication', 'data-testid': 'album-replication', hidden: true });

  // The whole album's counts, fetched again (at most every 2 s) when replication moves.
  let albumCounts = null;
  const refreshCounts = coalesce(async () => {
    try {
      const fresh = await api.album(albumId);
      albumCounts = fresh.replication || null;
      updateReplication();
    } catch (e) {
      // The grid's own counts stay; the next event tries again.
    }
  }, 2000);
  for (const type of ['job', 'jobs', 'blob', 'hello']) cleanups.push(onEvent(type, refreshCounts));
  cleanups.push(() => refreshCounts.cancel());

  function updateReplication() {
    const summary = albumSummary(feed.photos, feed.done, albumCounts);
    replication.hidden = !summary.text;
    replication.dataset.state = summary.state;
    if (replication.textContent !== summary.text) replication.textContent = summary.text;
  }

  function updateHeader() {
    title.textContent = album.name;
    meta.textContent = plural(album.photoCount || 0, 'photo', 'photos');
    document.title = album.name + ' · Sover';
  }

  function changeCount(delta) {
    album.photoCount = Math.max(0, (album.photoCount || 0) + delta);
    updateHeader();
  }

  function build() {
    const input = fileInput();
    const uploadButton = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'upload-button',
      onclick: () => input.click() }, icon('upload'), h('span', { text: 'Upload' }));
    const menu = actionMenu({ label: 'More album actions', testid: 'album-view-menu', extraClass: 'icon-btn-outline',
      items: [
        { label: 'Rename album', icon: 'pencil', testid: 'album-view-rename', action: rename },
        { label: 'Delete album', icon: 'trash', testid: 'album-view-delete', danger: true, action: remove },
      ] });
    const emptyAction = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'album-empty-upload',
      onclick: () => input.click() }, icon('upload'), 'Choose photos');

    feed = new PhotoFeed({
      testid: 'album-photos',
      fetchPage: (cursor, limit) => api.albumPhotos(albumId, cursor, limit),
      onOpen: (index) => openViewer({ feed, index, albumId, onAlbumChanged: (delta) => changeCount(delta) }),
      empty: () => emptyState({
        iconName: 'image', testid: 'album-empty', title: 'No photos in this album yet',
        text: 'Drag photos and videos here, or choose them from your device. You can add many at once.',
        action: emptyAction,
      }),
    });

    clear(page).append(
      h('a', { class: 'back-link', href: '#/albums', 'data-testid': 'album-back' }, icon('back'), 'Albums'),
      h('div', { class: 'page-head' },
        h('div', { class: 'page-head-text' }, title, meta, replication),
        h('div', { class: 'page-actions' }, input, uploadButton, menu)),
      feed.element,
      dropOverlay);
    updateHeader();
    feed.onChange(updateReplication);
    feed.start();
  }

  async function rename() {
    const updated = await renameAlbumDialog(album);
    if (updated && updated.id) {
      album = { ...album, ...updated };
      updateHeader();
    }
  }

  async function remove() {
    if (await deleteAlbumConfirmed(album)) app.navigate('#/albums');
  }

  // New uploads into this album appear in the grid as they finish.
  const onUploaded = (event) => {
    const { albumId: target, photo, created } = event.detail;
    if (target !== albumId || !feed) return;
    const isNew = !feed.tiles.has(photo.id);
    feed.insert(photo);
    if (created && isNew) changeCount(1);
  };
  window.addEventListener('sover:photo-uploaded', onUploaded);
  cleanups.push(() => window.removeEventListener('sover:photo-uploaded', onUploaded));

  // Drag and drop anywhere on the page.
  const dropOverlay = h('div', { class: 'drop-overlay', 'data-testid': 'drop-overlay', hidden: true },
    h('div', { class: 'drop-overlay-card' }, icon('upload'),
      h('p', { class: 'drop-overlay-title', 'data-testid': 'drop-overlay-title', text: 'Drop to upload' })));
  let dragDepth = 0;
  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes('Files');
  const onDragEnter = (event) => {
    if (!hasFiles(event) || !album) return;
    event.preventDefault();
    dragDepth++;
    dropOverlay.querySelector('.drop-overlay-title').textContent = 'Drop to upload to “' + album.name + '”';
    dropOverlay.hidden = false;
  };
  const onDragOver = (event) => {
    if (!hasFiles(event) || !album) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = (event) => {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) dropOverlay.hidden = true;
  };
  const onDrop = (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropOverlay.hidden = true;
    upload(event.dataTransfer.files);
  };
  const listeners = [['dragenter', onDragEnter], ['dragover', onDragOver], ['dragleave', onDragLeave], ['drop', onDrop]];
  for (const [type, fn] of listeners) document.addEventListener(type, fn);
  cleanups.push(() => listeners.forEach(([type, fn]) => document.removeEventListener(type, fn)));

  async function load() {
    clear(page).append(loadingState('Loading album…'));
    try {
      album = await api.album(albumId);
      albumCounts = album.replication || null;
      build();
    } catch (error) {
      if (error.status === 401) return;
      clear(page).append(
        h('a', { class: 'back-link', href: '#/albums', 'data-testid': 'album-back' }, icon('back'), 'Albums'),
        error.status === 404
          ? emptyState({ iconName: 'albums', testid: 'album-missing', title: 'This album is gone',
            text: 'It may have been deleted on another device.',
            action: h('a', { class: 'btn btn-primary', href: '#/albums', 'data-testid': 'album-missing-back' },
              'See all albums') })
          : errorState(error, load));
    }
  }

  load();
  return () => {
    cleanups.forEach((fn) => fn());
    if (feed) feed.destroy();
  };
}
