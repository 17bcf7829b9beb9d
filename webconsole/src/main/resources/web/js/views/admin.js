// What the admin pages (node, replication, peers, settings) share: the guard for members, the
// section tabs, the live-events indicator, and polling that pauses while the tab is hidden.
import { h } from '../dom.js';
import { onConnectionChange } from '../events.js';
import { emptyState } from '../ui.js';

const SECTIONS = [
  { name: 'node', href: '#/node', label: 'Node' },
  { name: 'replication', href: '#/replication', label: 'Replication' },
  { name: 'peers', href: '#/peers', label: 'Peers' },
  { name: 'settings', href: '#/settings', label: 'Settings' },
];

const LIVE_TEXT = { live: 'Live', connecting: 'Connecting…', closed: 'Not live' };

/**
 * Builds an admin page into root, or the "admins only" notice for a member (who then never calls
 * an admin route). Returns {page, head, actions, body, cleanups} or null.
 */
export function adminPage(root, app, { name, title, subtitle }) {
  document.title = title + ' · Sover';
  if (!app.isAdmin()) {
    root.append(h('div', { class: 'page' }, emptyState({
      iconName: 'shield', testid: 'admin-only', title: 'Only an admin can see this page',
      text: 'Ask the person who set up your Sover node to make you an admin if you need it.',
      action: h('a', { class: 'btn btn-primary', href: '#/albums', 'data-testid': 'admin-only-albums' }, 'Go to albums'),
    })));
    return null;
  }
  const cleanups = [];
  const liveText = h('span', { class: 'live-text' });
  const live = h('span', { class: 'live-status', 'data-testid': 'live-status' }, liveText);
  cleanups.push(onConnectionChange((connection) => {
    live.dataset.state = connection;
    liveText.textContent = LIVE_TEXT[connection] || connection;
    live.title = connection === 'live' ? 'This page updates by itself as the node reports changes.'
      : 'Live updates are not connected; the page refreshes now and then and reconnects by itself.';
  }));
  const tabs = h('nav', { class: 'admin-nav', 'aria-label': 'Admin sections', 'data-testid': 'admin-nav' },
    SECTIONS.map((section) => h('a', {
      class: 'admin-nav-link' + (section.name === name ? ' is-active' : ''), href: section.href,
      'data-testid': 'admin-nav-' + section.name, 'aria-current': section.name === name ? 'page' : null,
    }, section.label)),
    live);
  const actions = h('div', { class: 'page-actions' });
  const subtitleEl = h('p', { class: 'page-subtitle', 'data-testid': name + '-subtitle', text: subtitle || '' });
  const head = h('div', { class: 'page-head' },
    h('div', { class: 'page-head-text' }, h('h1', { class: 'page-title', text: title }), subtitleEl),
    actions);
  const body = h('div', { class: 'admin-body' });
  const page = h('div', { class: 'page page-admin', 'data-testid': name + '-page' }, tabs, head, body);
  root.append(page);
  return { page, head, actions, body, subtitle: subtitleEl, cleanups };
}

/**
 * Calls fn every `seconds` while the page is visible (and once at once when it becomes visible
 * again). Returns the stop function.
 */
export function poll(fn, seconds) {
  let timer = null;
  const tick = () => {
    timer = setTimeout(async () => {
      if (document.visibilityState === 'visible') {
        try {
          await fn();
        } catch (_) { /* the page shows its own errors */ }
      }
      if (timer !== null) tick();
    }, seconds * 1000);
  };
  const onVisible = () => {
    if (document.visibilityState === 'visible') fn();
  };
  document.addEventListener('visibilitychange', onVisible);
  tick();
  return () => {
    clearTimeout(timer);
    timer = null;
    document.removeEventListener('visibilitychange', onVisible);
  };
}

/** A titled card on an admin page. */
export function card(title, testid, ...children) {
  return h('section', { class: 'card', 'data-testid': testid },
    title ? h('h2', { class: 'card-title', text: title }) : null, ...children);
}

/** A label/value row list (<dl>); rows: [label, value or Element, testid]. */
export function facts(rows, testid) {
  const dl = h('dl', { class: 'facts', 'data-testid': testid });
  for (const [label, value, rowTestid] of rows) {
    dl.append(h('div', { class: 'fact' }, h('dt', { text: label }),
      value instanceof Node ? h('dd', { 'data-testid': rowTestid }, value)
        : h('dd', { 'data-testid': rowTestid, text: value === null || value === undefined || value === '' ? '—' : String(value) })));
  }
  return dl;
}
