// Start-up, session and hash routing (#/albums, #/albums/<id>, #/timeline, #/login, #/setup, and for
// admins #/node, #/replication, #/peers, #/settings).
import { api } from './api.js';
import { h, icon, clear } from './dom.js';
import { startEvents, stopEvents } from './events.js';
import { confirmDialog, errorState, loadingState, emptyState, toastError } from './ui.js';
import { closeViewer } from './viewer.js';
import { hasActiveUploads, resumeOutbox, suspendOutbox } from './upload.js';
import { renderLogin, renderSetup } from './views/auth.js';
import { renderAlbums } from './views/albums.js';
import { renderAlbum } from './views/album.js';
import { renderTimeline } from './views/timeline.js';
import { renderNode } from './views/node.js';
import { renderReplication } from './views/replication.js';
import { renderPeers } from './views/peers.js';
import { renderSettings } from './views/settings.js';

const view = document.getElementById('view');
const topbar = document.getElementById('topbar');

const state = {
  user: null,
  setupPending: false,
  returnTo: null,
  cleanup: null,
};

const ROUTES = [
  { pattern: /^#\/setup$/, render: renderSetup, open: true, name: 'setup' },
  { pattern: /^#\/login$/, render: renderLogin, open: true, name: 'login' },
  { pattern: /^#\/albums$/, render: renderAlbums, name: 'albums' },
  { pattern: /^#\/albums\/([a-z0-9]{1,64})$/i, render: renderAlbum, name: 'albums', params: ['id'] },
  { pattern: /^#\/timeline$/, render: renderTimeline, name: 'timeline' },
  { pattern: /^#\/node$/, render: renderNode, name: 'node', admin: true },
  { pattern: /^#\/replication$/, render: renderReplication, name: 'replication', admin: true },
  { pattern: /^#\/peers$/, render: renderPeers, name: 'peers', admin: true },
  { pattern: /^#\/settings$/, render: renderSettings, name: 'settings', admin: true },
];

// What views may call back into.
const app = {
  notice: '',
  get user() {
    return state.user;
  },
  isAdmin() {
    return !!state.user && state.user.role === 'admin';
  },
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  signedIn(user) {
    state.user = user;
    state.setupPending = false;
    showUser();
    sessionStarted();
    const target = state.returnTo && !/^#\/(login|setup)/.test(state.returnTo) ? state.returnTo : '#/albums';
    state.returnTo = null;
    app.navigate(target);
  },
  setupFinished(notice) {
    state.setupPending = false;
    app.notice = notice;
    app.navigate('#/login');
  },
};

/** A signed-in user: live events on, and their upload outbox from earlier visits goes on. */
function sessionStarted() {
  startEvents();
  resumeOutbox(state.user);
}

function sessionEnded() {
  stopEvents();
  suspendOutbox();
}

function showUser() {
  topbar.hidden = !state.user;
  if (!state.user) return;
  // Members never see the admin pages (their API answers would be 403 anyway).
  topbar.querySelector('[data-testid="nav-admin"]').hidden = state.user.role !== 'admin';
  const name = state.user.username || '';
  topbar.querySelector('[data-testid="user-name"]').textContent = name;
  topbar.querySelector('[data-testid="user-avatar"]').textContent = name.slice(0, 1).toUpperCase();
  topbar.querySelector('[data-testid="user-role"]').textContent = state.user.role === 'admin' ? 'Admin' : 'Member';
}

function notFound(root) {
  document.title = 'Not found · Sover';
  root.append(h('div', { class: 'page' }, emptyState({
    iconName: 'alert', testid: 'route-not-found', title: 'There is nothing here',
    text: 'The address may be mistyped, or the album was deleted.',
    action: h('a', { class: 'btn btn-primary', href: '#/albums', 'data-testid': 'not-found-albums' }, 'Go to albums'),
  })));
}

function route() {
  const fullHash = location.hash || '#/albums';
  // "#/replication?state=failed&peer=..." : the part after "?" is the page's own state.
  const queryAt = fullHash.indexOf('?');
  const hash = queryAt < 0 ? fullHash : fullHash.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : fullHash.slice(queryAt + 1));
  if (hash === '#' || hash === '#/') {
    location.replace('#/albums');
    return;
  }
  let match = null;
  let found = null;
  for (const candidate of ROUTES) {
    match = candidate.pattern.exec(hash);
    if (match) {
      found = candidate;
      break;
    }
  }
  // Guards: setup first, then sign-in.
  if (state.setupPending && (!found || found.name !== 'setup')) {
    location.replace('#/setup');
    return;
  }
  if (!state.setupPending && found && found.name === 'setup') {
    location.replace(state.user ? '#/albums' : '#/login');
    return;
  }
  if (!state.user && !(found && found.open)) {
    state.returnTo = fullHash;
    location.replace('#/login');
    return;
  }
  if (state.user && found && found.name === 'login') {
    location.replace('#/albums');
    return;
  }

  closeViewer();
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch (e) {
      console.warn('view cleanup failed', e);
    }
    state.cleanup = null;
  }
  clear(view);
  view.dataset.route = found ? found.name : 'not-found';
  document.body.classList.toggle('is-auth', !!(found && found.open));
  for (const link of topbar.querySelectorAll('[data-nav]')) {
    const current = !!found && (link.dataset.nav === found.name || (link.dataset.nav === 'admin' && !!found.admin));
    link.classList.toggle('is-active', current);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  window.scrollTo(0, 0);
  if (!found) {
    notFound(view);
    return;
  }
  const params = { query };
  (found.params || []).forEach((name, i) => { params[name] = decodeURIComponent(match[i + 1]); });
  const cleanup = found.render(view, params, app);
  state.cleanup = typeof cleanup === 'function' ? cleanup : null;
}

// Any 401 from the API: the session is over, so show the sign-in screen and come back afterwards.
window.addEventListener('sover:unauthenticated', () => {
  if (!state.user) return;
  state.user = null;
  sessionEnded();
  showUser();
  closeViewer();
  app.notice = 'Your session has ended. Please sign in again.';
  state.returnTo = location.hash;
  location.replace('#/login');
});

async function logout() {
  if (hasActiveUploads()) {
    const ok = await confirmDialog({ title: 'Sign out now?',
      message: 'Uploads in progress will stop. Files not yet on your node stay in this browser’s outbox '
        + 'and are sent when you sign in here again.',
      confirmLabel: 'Sign out', danger: true, testid: 'logout-dialog' });
    if (!ok) return;
  }
  try {
    await api.logout();
  } catch (error) {
    if (error.status !== 401) {
      toastError(error);
      return;
    }
  }
  state.user = null;
  sessionEnded();
  showUser();
  app.navigate('#/login');
}

function buildTopbar() {
  clear(topbar).append(
    h('a', { class: 'brand', href: '#/albums', 'data-testid': 'nav-home', 'aria-label': 'Sover home' },
      h('img', { class: 'brand-logo', src: 'icon.svg', alt: '', width: '28', height: '28' }),
      h('span', { class: 'brand-name', text: 'Sover' })),
    h('nav', { class: 'mainnav', 'aria-label': 'Main' },
      h('a', { class: 'nav-link', href: '#/albums', 'data-nav': 'albums', 'data-testid': 'nav-albums' },
        icon('albums'), h('span', { text: 'Albums' })),
      h('a', { class: 'nav-link', href: '#/timeline', 'data-nav': 'timeline', 'data-testid': 'nav-timeline' },
        icon('timeline'), h('span', { text: 'Timeline' })),
      h('a', { class: 'nav-link', href: '#/node', 'data-nav': 'admin', 'data-testid': 'nav-admin', hidden: true },
        icon('shield'), h('span', { text: 'Admin' }))),
    h('div', { class: 'userbox', 'data-testid': 'user-box' },
      h('span', { class: 'avatar', 'aria-hidden': 'true', 'data-testid': 'user-avatar' }),
      h('span', { class: 'user-text' },
        h('span', { class: 'user-name', 'data-testid': 'user-name' }),
        h('span', { class: 'user-role', 'data-testid': 'user-role' })),
      h('button', { class: 'btn btn-ghost btn-sm logout', type: 'button', 'data-testid': 'logout', 'aria-label': 'Sign out',
        title: 'Sign out', onclick: logout }, icon('logout'), h('span', { class: 'logout-label', text: 'Sign out' }))));
}

async function boot() {
  buildTopbar();
  clear(view).append(h('div', { class: 'page' }, loadingState('Connecting to your node…')));
  try {
    const setup = await api.setupStatus();
    state.setupPending = !!(setup && setup.setupPending);
    if (!state.setupPending) {
      try {
        const session = await api.session();
        state.user = session && session.authenticated ? session : null;
      } catch (error) {
        if (error.status !== 401) throw error;
      }
    }
  } catch (error) {
    clear(view).append(h('div', { class: 'page' }, errorState(error, boot)));
    return;
  }
  showUser();
  if (state.user) sessionStarted();
  if (!bootDone) {
    window.addEventListener('hashchange', route);
    bootDone = true;
  }
  route();
}

let bootDone = false;
boot();
