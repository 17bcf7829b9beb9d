// The replication page (admin): jobs by state with counts, one page of 100 at a time through the
// API cursor (a node may hold 100,000 jobs; only the page on screen is ever loaded), filter by
// peer, requeue one job, a peer's jobs, or every failed one. Live events refresh counts and rows.
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { onEvent, coalesce } from '../events.js';
import { formatRelative, formatWhen, plural, shortId } from '../format.js';
import { confirmDialog, emptyState, errorState, loadingState, toast, toastError } from '../ui.js';
import { adminPage, poll } from './admin.js';

const STATES = [
  { state: 'pending', label: 'Pending', empty: 'Nothing is waiting to be sent.' },
  { state: 'in_flight', label: 'In flight', empty: 'Nothing is being sent right now.' },
  { state: 'done', label: 'Done', empty: 'No photo has been sent to another node yet.' },
  { state: 'failed', label: 'Failed', empty: 'No job has failed. Everything that should be sent was sent or is on its way.' },
];
const PAGE_SIZE = 100;

export function renderReplication(root, params, app) {
  const shell = adminPage(root, app, { name: 'replication', title: 'Replication',
    subtitle: 'Every photo is sent to every paired node. Each send is a job.' });
  if (!shell) return undefined;
  const query = params.query || new URLSearchParams();

  let state = STATES.some((s) => s.state === query.get('state')) ? query.get('state') : 'pending';
  let peer = query.get('peer') || '';
  let cursors = [null]; // cursors[i] loads page i; only the pages visited are remembered
  let pageIndex = 0;
  let counts = null;
  let items = [];
  let next = null;
  let names = new Map();
  let run = 0;
  let destroyed = false;

  // ---- Header: coverage summary and "requeue all failed" ----------------------------------

  const refreshButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'jobs-refresh',
    onclick: () => loadPage() }, icon('retry'), h('span', { text: 'Refresh' }));
  const requeueAllButton = h('button', { class: 'btn btn-primary', type: 'button',
    'data-testid': 'replication-requeue-all-failed', onclick: requeueAllFailed }, icon('retry'),
  h('span', { text: 'Requeue all failed' }));
  shell.actions.append(refreshButton, requeueAllButton);

  // ---- Filter by peer -----------------------------------------------------------------------

  const peerSelect = h('select', { class: 'input select', id: 'jobs-peer', 'data-testid': 'replication-peer-filter' });
  const requeuePeerButton = h('button', { class: 'btn btn-secondary', type: 'button', hidden: true,
    'data-testid': 'replication-requeue-peer', onclick: requeuePeer }, icon('retry'), h('span', { text: 'Requeue this node’s jobs' }));
  peerSelect.addEventListener('change', () => {
    peer = peerSelect.value;
    resetPaging();
    loadPage();
  });
  const filterBar = h('div', { class: 'filter-bar' },
    h('label', { class: 'field-label', for: 'jobs-peer', text: 'Node' }), peerSelect, requeuePeerButton);

  // ---- Tabs ---------------------------------------------------------------------------------

  const tabButtons = new Map();
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Jobs by state', 'data-testid': 'replication-tabs' });
  for (const { state: s, label } of STATES) {
    const count = h('span', { class: 'tab-count', 'data-testid': 'replication-count-' + s, text: '…' });
    const button = h('button', { class: 'tab', type: 'button', role: 'tab', id: 'jobs-tab-' + s,
      'aria-controls': 'jobs-panel', 'data-testid': 'replication-tab-' + s, 'data-state': s,
      onclick: () => selectTab(s) }, h('span', { text: label }), count);
    tabButtons.set(s, { button, count });
    tablist.append(button);
  }
  // Arrow keys move between tabs (the tab pattern); Tab goes on into the table.
  tablist.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight' && event.key !== 'Home' && event.key !== 'End') return;
    event.preventDefault();
    const order = STATES.map((s) => s.state);
    let index = order.indexOf(state);
    if (event.key === 'ArrowLeft') index = (index - 1 + order.length) % order.length;
    if (event.key === 'ArrowRight') index = (index + 1) % order.length;
    if (event.key === 'Home') index = 0;
    if (event.key === 'End') index = order.length - 1;
    selectTab(order[index]);
    tabButtons.get(order[index]).button.focus();
  });

  // ---- The page of jobs -------------------------------------------------------------------

  const status = h('div', { class: 'jobs-status', 'data-testid': 'jobs-status' });
  const tbody = h('tbody', { 'data-testid': 'jobs-rows' });
  const table = h('table', { class: 'jobs-table', 'data-testid': 'jobs-table' },
    h('caption', { class: 'visually-hidden', 'data-testid': 'jobs-caption' }),
    h('thead', {}, h('tr', {},
      ['Photo', 'Node', 'Attempts', 'Last error', 'Next attempt', 'Updated'].map((label) =>
        h('th', { scope: 'col', text: label })),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
    tbody);
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { class: 'jobs-empty', hidden: true });
  const prevButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'jobs-prev',
    onclick: () => goTo(pageIndex - 1) }, icon('left'), h('span', { text: 'Previous' }));
  const nextButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'jobs-next',
    onclick: () => goTo(pageIndex + 1) }, h('span', { text: 'Next' }), icon('right'));
  const pageInfo = h('span', { class: 'pager-info', 'data-testid': 'jobs-page', 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager', 'data-testid': 'jobs-pager' }, prevButton, pageInfo, nextButton);
  const panel = h('div', { class: 'tab-panel', id: 'jobs-panel', role: 'tabpanel', 'data-testid': 'jobs-panel' },
    status, tableWrap, empty, pager);

  shell.body.append(filterBar, tablist, panel);

  function resetPaging() {
    cursors = [null];
    pageIndex = 0;
    writeHash();
  }

  function writeHash() {
    const q = new URLSearchParams();
    if (state !== 'pending') q.set('state', state);
    if (peer) q.set('peer', peer);
    const text = q.toString();
    // replaceState: the filter is remembered for reloads and links without a history entry per click.
    history.replaceState(null, '', '#/replication' + (text ? '?' + text : ''));
  }

  function selectTab(s) {
    if (s === state) return;
    state = s;
    resetPaging();
    renderTabs();
    loadPage();
  }

  function goTo(index) {
    if (index < 0 || index >= cursors.length + (next ? 1 : 0)) return;
    if (index === cursors.length) cursors.push(next);
    pageIndex = index;
    loadPage().then(() => {
      // Keep the pager in reach on a phone: go back to the top of the list.
      if (!destroyed) tablist.scrollIntoView({ block: 'start', behavior: 'smooth' });
    });
  }

  function renderTabs() {
    for (const { state: s } of STATES) {
      const { button, count } = tabButtons.get(s);
      const selected = s === state;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      button.classList.toggle('is-active', selected);
      count.textContent = counts && typeof counts[s] === 'number' ? counts[s].toLocaleString() : '…';
      button.dataset.nonzero = String(!!(counts && counts[s] > 0));
    }
    panel.setAttribute('aria-labelledby', 'jobs-tab-' + state);
    const failed = counts && counts.failed ? counts.failed : 0;
    requeueAllButton.disabled = counts !== null && failed === 0 && !peer;
    requeuePeerButton.hidden = !peer;
  }

  function peerName(id) {
    return names.get(id) || 'node ' + shortId(id);
  }

  function renderPeerOptions() {
    const options = [h('option', { value: '', text: 'All nodes' })];
    const ids = [...names.keys()];
    if (peer && !names.has(peer)) ids.push(peer);
    for (const id of ids) options.push(h('option', { value: id, 'data-testid': 'replication-peer-option', text: peerName(id) }));
    peerSelect.replaceChildren(...options);
    peerSelect.value = peer;
    clear(requeuePeerButton).append(icon('retry'),
      h('span', { text: peer ? 'Requeue ' + peerName(peer) + '’s jobs' : 'Requeue this node’s jobs' }));
  }

  function photoCell(job) {
    const thumb = h('span', { class: 'job-thumb' }, icon('image'));
    const img = h('img', { src: api.thumbnailUrl(job.photoId), alt: '', loading: 'lazy', decoding: 'async', width: '40',
      height: '40' });
    // Videos, HEIC and deleted photos have no thumbnail: the icon stays.
    img.addEventListener('error', () => img.remove());
    img.addEventListener('load', () => thumb.classList.add('has-img'));
    thumb.append(img);
    // The file name when the photo still exists; its short id otherwise.
    const name = job.filename
      ? h('span', { class: 'job-filename', 'data-testid': 'job-filename', text: job.filename })
      : h('code', { class: 'job-id', text: shortId(job.photoId) });
    return h('td', { class: 'job-photo', 'data-label': 'Photo', 'data-testid': 'job-photo', title: job.photoId },
      thumb, name);
  }

  function nextAttemptText(job) {
    if (job.state === 'done') return '—';
    if (job.state === 'in_flight') return 'Sending now';
    if (!job.nextAttemptAt) return job.state === 'failed' ? 'Not scheduled (requeue to retry)' : 'As soon as possible';
    return formatWhen(job.nextAttemptAt) + ' (' + formatRelative(job.nextAttemptAt) + ')';
  }

  function row(job) {
    const canRequeue = job.state === 'failed' || job.state === 'pending';
    const transport = [job.transport, job.path].filter(Boolean).join(' · ');
    return h('tr', { class: 'job-row', 'data-testid': 'job-row', 'data-job-id': job.id, 'data-state': job.state },
      photoCell(job),
      h('td', { 'data-label': 'Node', 'data-testid': 'job-peer', title: job.peerId, text: peerName(job.peerId) }),
      h('td', { class: 'num', 'data-label': 'Attempts', 'data-testid': 'job-attempts',
        text: String(job.attempts || 0) }),
      h('td', { class: 'job-error', 'data-label': 'Last error', 'data-testid': 'job-error',
        title: transport ? 'Last attempt over ' + transport : null, text: job.lastError || '—' }),
      h('td', { 'data-label': 'Next attempt', 'data-testid': 'job-next-attempt', text: nextAttemptText(job) }),
      h('td', { 'data-label': 'Updated', 'data-testid': 'job-updated', title: job.updatedAt || '',
        text: formatWhen(job.updatedAt) || '—' }),
      h('td', { class: 'job-actions' }, canRequeue
        ? h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'job-requeue',
          'aria-label': 'Requeue the job of photo ' + shortId(job.photoId) + ' for ' + peerName(job.peerId),
          onclick: (event) => requeueOne(job, event.currentTarget) }, icon('retry'), 'Requeue')
        : null));
  }

  function renderRows() {
    const meta = STATES.find((s) => s.state === state);
    tbody.replaceChildren(...items.map(row));
    table.querySelector('caption').textContent = meta.label + ' jobs' + (peer ? ' for ' + peerName(peer) : '');
    tableWrap.hidden = items.length === 0;
    empty.hidden = items.length !== 0;
    if (items.length === 0) {
      empty.replaceChildren(emptyState({ iconName: state === 'failed' ? 'check' : 'clock', testid: 'jobs-empty',
        title: pageIndex > 0 ? 'No more jobs' : 'No ' + meta.label.toLowerCase() + ' jobs',
        text: pageIndex > 0 ? 'The list changed while you were paging. Go back to the first page.' : meta.empty }));
    }
  }

  function renderPager() {
    const total = counts && typeof counts[state] === 'number' ? counts[state] : null;
    prevButton.disabled = pageIndex === 0;
    nextButton.disabled = !next;
    pager.hidden = pageIndex === 0 && !next;
    const from = pageIndex * PAGE_SIZE + 1;
    const to = pageIndex * PAGE_SIZE + items.length;
    pageInfo.textContent = items.length === 0 ? 'Page ' + (pageIndex + 1)
      : from.toLocaleString() + '–' + to.toLocaleString() + (total !== null ? ' of ' + total.toLocaleString() : '');
  }

  function signature(list) {
    return list.map((j) => j.id + ':' + j.state + ':' + j.attempts + ':' + j.updatedAt).join(',');
  }

  function focusInTable() {
    return panel.contains(document.activeElement) && document.activeElement !== document.body;
  }

  /** Loads the page on screen again (same cursor). countsOnly keeps the rows (someone is using them). */
  async function loadPage({ countsOnly = false, quiet = false } = {}) {
    const mine = ++run;
    if (!quiet && !countsOnly) {
      clear(status).append(loadingState(items.length ? 'Refreshing…' : 'Loading jobs…'));
      panel.setAttribute('aria-busy', 'true');
    }
    try {
      const page = await api.jobs({ state, peer, cursor: cursors[pageIndex], limit: PAGE_SIZE });
      if (destroyed || mine !== run) return;
      counts = page && page.counts ? page.counts : counts;
      renderTabs();
      clear(status);
      const fresh = Array.isArray(page && page.items) ? page.items : [];
      if (countsOnly) {
        // Someone is using the rows (focus is in them): say the list changed instead of redrawing it.
        if (signature(fresh) !== signature(items)) {
          refreshButton.classList.add('is-stale');
          refreshButton.title = 'The list changed; refresh to see it';
        }
        return;
      }
      refreshButton.classList.remove('is-stale');
      refreshButton.title = '';
      items = fresh;
      next = page && page.next ? page.next : null;
      cursors.length = pageIndex + 1;
      renderRows();
      renderPager();
    } catch (error) {
      if (destroyed || mine !== run || error.status === 401) return;
      if (error.code === 'bad_cursor' && pageIndex > 0) {
        resetPaging();
        loadPage();
        return;
      }
      items = [];
      tableWrap.hidden = true;
      empty.hidden = true;
      pager.hidden = true;
      clear(status).append(error.status === 404
        ? errorState({ message: 'This node does not offer the jobs list yet (its replication part may be updating). Try again in a minute.' }, () => loadPage())
        : errorState(error, () => loadPage()));
    } finally {
      if (mine === run) panel.removeAttribute('aria-busy');
    }
  }

  async function loadSummary() {
    try {
      const body = await api.replicationStatus();
      if (destroyed) return;
      names = new Map((body && Array.isArray(body.peers) ? body.peers : []).map((p) => [p.nodeId, p.name || '']));
      const vault = body && body.vault;
      if (vault && typeof vault.photos === 'number') {
        const others = names.size;
        shell.subtitle.textContent = others === 0
          ? 'No other node is paired yet, so there is nothing to send. Pair one on the Peers page.'
          : vault.fullyReplicated.toLocaleString() + ' of ' + plural(vault.photos, 'photo', 'photos') +
            ' on every node · ' + plural(others, 'paired node', 'paired nodes');
      }
    } catch (error) {
      if (destroyed || error.status === 401) return;
      // The status part may be away (503) while jobs still list: the peer ids then show shortened.
      try {
        const peers = await api.peers();
        if (!destroyed && Array.isArray(peers)) names = new Map(peers.map((p) => [p.nodeId, p.name || '']));
      } catch (_) { /* names stay short ids */ }
    }
    if (destroyed) return;
    renderPeerOptions();
    if (items.length) renderRows();
  }

  async function requeueOne(job, button) {
    button.disabled = true;
    try {
      const result = await api.requeueJobs([job.id]);
      toast(result && result.requeued ? 'The job is due now; ' + peerName(job.peerId) + ' gets the photo next.'
        : 'That job was not waiting or failed any more.');
      await loadPage({ quiet: true });
    } catch (error) {
      toastError(error);
      button.disabled = false;
    }
  }

  async function requeuePeer() {
    if (!peer) return;
    requeuePeerButton.disabled = true;
    try {
      const result = await api.requeuePeer(peer);
      const n = result && typeof result.requeued === 'number' ? result.requeued : 0;
      toast(n ? plural(n, 'job', 'jobs') + ' for ' + peerName(peer) + ' are due now.' : 'Nothing for ' + peerName(peer) + ' was waiting or failed.');
      await loadPage({ quiet: true });
    } catch (error) {
      toastError(error);
    } finally {
      requeuePeerButton.disabled = false;
    }
  }

  async function requeueAllFailed() {
    const failed = counts && typeof counts.failed === 'number' ? counts.failed : null;
    const ok = await confirmDialog({
      title: 'Requeue all failed jobs?',
      message: (failed !== null && !peer ? plural(failed, 'failed job', 'failed jobs') : 'Every failed job, for every node,') +
        ' will be due now with a fresh count of attempts. Jobs for a node that is still away fail again after its retries.',
      confirmLabel: 'Requeue all failed', testid: 'requeue-all-dialog',
    });
    if (!ok) return;
    requeueAllButton.disabled = true;
    try {
      const result = await api.requeueAllFailed();
      const n = result && typeof result.requeued === 'number' ? result.requeued : 0;
      toast(n ? plural(n, 'failed job', 'failed jobs') + ' requeued.' : 'No job had failed.');
      await loadPage({ quiet: true });
    } catch (error) {
      toastError(error);
    } finally {
      renderTabs();
    }
  }

  // Live: a burst of job events becomes one reload of the page on screen (one request of 100).
  const liveRefresh = coalesce(() => {
    if (destroyed || document.visibilityState === 'hidden') return;
    loadPage({ countsOnly: focusInTable(), quiet: true });
  }, 2000);
  shell.cleanups.push(onEvent('job', liveRefresh), onEvent('jobs', liveRefresh), onEvent('hello', liveRefresh),
    onEvent('peer', coalesce(loadSummary, 2000)));
  // Without live events (a proxy that buffers them), a slow poll keeps the counts honest.
  shell.cleanups.push(poll(() => loadPage({ countsOnly: focusInTable(), quiet: true }), 30));

  renderTabs();
  renderPeerOptions();
  loadSummary();
  loadPage();

  return () => {
    destroyed = true;
    liveRefresh.cancel();
    shell.cleanups.forEach((fn) => fn());
  };
}
