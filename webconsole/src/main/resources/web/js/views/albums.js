// The albums page: cards with cover, name and count; create, rename, delete.
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { plural } from '../format.js';
import { actionMenu, confirmDialog, emptyState, errorState, formDialog, loadingState, toast, toastError } from '../ui.js';

export function validateAlbumName(name) {
  if (!name) return 'Give the album a name.';
  if (name.length > 200) return 'Album names can be at most 200 characters.';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'Album names cannot contain control characters.';
  return '';
}

export function createAlbumDialog() {
  return formDialog({
    title: 'New album', label: 'Album name', placeholder: 'e.g. Summer at the lake',
    submitLabel: 'Create album', testid: 'album-dialog', inputTestid: 'album-name-input',
    validate: validateAlbumName, submit: (name) => api.createAlbum(name),
  });
}

export function renameAlbumDialog(album) {
  return formDialog({
    title: 'Rename album', label: 'Album name', value: album.name, submitLabel: 'Save',
    testid: 'album-dialog', inputTestid: 'album-name-input',
    validate: validateAlbumName, submit: (name) => api.renameAlbum(album.id, name),
  });
}

export async function deleteAlbumConfirmed(album) {
  const count = album.photoCount || 0;
  const ok = await confirmDialog({
    title: 'Delete “' + album.name + '”?',
    message: count > 0
      ? 'The album and the ' + plural(count, 'photo', 'photos') + ' in it will be deleted from all of your family’s nodes. This can’t be undone.'
      : 'The empty album will be deleted from all of your family’s nodes.',
    confirmLabel: count > 0 ? 'Delete album and photos' : 'Delete album', danger: true, testid: 'album-delete-dialog',
  });
  if (!ok) return false;
  try {
    await api.deleteAlbum(album.id);
    toast('“' + album.name + '” was deleted.');
    return true;
  } catch (error) {
    toastError(error);
    return false;
  }
}

function cover(album) {
  const placeholder = () => h('span', { class: 'album-cover-empty' }, icon('albums'));
  if (!album.coverPhotoId) return placeholder();
  const img = h('img', { class: 'album-cover-img', src: api.thumbnailUrl(album.coverPhotoId), alt: '',
    loading: 'lazy', decoding: 'async' });
  // The cover may be a video or HEIC without a thumbnail.
  img.addEventListener('error', () => img.replaceWith(placeholder()));
  return img;
}

export function renderAlbums(root, params, app) {
  document.title = 'Albums · Sover';
  let albums = [];
  const createButton = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'album-create',
    onclick: () => create() }, icon('plus'), h('span', { text: 'New album' }));
  const subtitle = h('p', { class: 'page-subtitle', 'data-testid': 'albums-summary' });
  const content = h('div', { class: 'albums-content' });
  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', { class: 'page-head-text' }, h('h1', { class: 'page-title', text: 'Albums' }), subtitle),
      h('div', { class: 'page-actions' }, createButton)),
    content));

  async function create() {
    const album = await createAlbumDialog();
    if (album && album.id) {
      toast('Album “' + album.name + '” created.');
      app.navigate('#/albums/' + album.id);
    }
  }

  async function rename(album) {
    const updated = await renameAlbumDialog(album);
    if (updated && updated.id) {
      Object.assign(album, updated);
      draw();
    }
  }

  async function remove(album) {
    if (await deleteAlbumConfirmed(album)) {
      albums = albums.filter((a) => a.id !== album.id);
      draw();
    }
  }

  function card(album) {
    const href = '#/albums/' + encodeURIComponent(album.id);
    return h('article', { class: 'album-card', 'data-testid': 'album-card', 'data-album-id': album.id },
      h('a', { class: 'album-cover', href, 'data-testid': 'album-open', 'aria-label': 'Open album ' + album.name,
        tabindex: '-1' }, cover(album)),
      h('div', { class: 'album-info' },
        h('div', { class: 'album-text' },
          h('h2', { class: 'album-name' },
            h('a', { class: 'album-link', href, 'data-testid': 'album-link', text: album.name })),
          h('p', { class: 'album-count', 'data-testid': 'album-count',
            text: plural(album.photoCount || 0, 'photo', 'photos') })),
        actionMenu({ label: 'More actions for ' + album.name, testid: 'album-menu', items: [
          { label: 'Rename', icon: 'pencil', testid: 'album-rename', action: () => rename(album) },
          { label: 'Delete', icon: 'trash', testid: 'album-delete', danger: true, action: () => remove(album) },
        ] })));
  }

  function draw() {
    clear(content);
    const total = albums.reduce((sum, a) => sum + (a.photoCount || 0), 0);
    subtitle.textContent = albums.length
      ? plural(albums.length, 'album', 'albums') + ' · ' + plural(total, 'photo', 'photos') : '';
    if (albums.length === 0) {
      content.append(emptyState({
        iconName: 'albums', testid: 'albums-empty', title: 'Create your first album',
        text: 'Albums keep your photos together — a holiday, a birthday, a year of the kids. '
          + 'Everything you add is stored safely on all of your family’s nodes.',
        action: h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'albums-empty-create',
          onclick: () => create() }, icon('plus'), 'Create your first album'),
      }));
      return;
    }
    content.append(h('div', { class: 'album-grid', 'data-testid': 'album-grid' }, albums.map(card)));
  }

  async function load() {
    clear(content).append(loadingState('Loading albums…'));
    try {
      const list = await api.albums();
      albums = Array.isArray(list) ? list : [];
      draw();
    } catch (error) {
      if (error.status === 401) return;
      clear(content).append(errorState(error, load));
    }
  }

  load();
}
