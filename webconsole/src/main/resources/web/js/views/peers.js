// The peers page (admin): each paired node's health and traffic, its actions (sync now, rename,
// block/unblock, remove), pairing in both directions (this node's one-time line with a copy
// button, a paste box for another node's line), and the approval queue.
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { onEvent, coalesce } from '../events.js';
import { formatBytes, formatMillis, formatRelative, formatWhen, plural, shortId } from '../format.js';
import { confirmDialog, emptyState, errorState, formDialog, loadingState, toast, toastError } from '../ui.js';
import { adminPage, card, poll } from './admin.js';

const PATH_TEXT = { lan: 'LAN', direct: 'Direct', host: 'Direct (host)', srflx: 'Direct (through NAT)', relay: 'Relay' };
const ROLE_TEXT = { full: 'Full member', storage: 'Storage only' };

/** The expiry written inside a pairing line ("sover-pair:" base64url JSON "." signature), if readable. */
function payloadExpiry(payload) {
  try {
    const body = payload.slice('sover-pair:'.length).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(body + '='.repeat((4 - (body.length % 4)) % 4)));
    return typeof json.expires === 'string' ? json.expires : null;
  } catch (_) {
    return null;
  }
}

function nameOf(peer) {
  return peer.name || 'node ' + shortId(peer.nodeId);
}

export function renderPeers(root, params, app) {
  const shell = adminPage(root, app, { name: 'peers', title: 'Peers',
    subtitle: 'The other nodes of your family that keep copies of your photos.' });
  if (!shell) return undefined;
  let destroyed = false;
  const cards = new Map(); // nodeId -> {element, parts, peer}

  // ---- Paired nodes -----------------------------------------------------------------------

  const listStatus = h('div', { class: 'peers-status', 'data-testid': 'peers-status' });
  const list = h('div', { class: 'peer-list', 'data-testid': 'peer-list' });
  const listEmpty = h('div', { hidden: true });
  const statusNote = h('p', { class: 'notice', 'data-testid': 'peers-notice', hidden: true });

  function peerCard(nodeId) {
    const parts = {
      name: h('h3', { class: 'peer-name', 'data-testid': 'peer-name' }),
      id: h('code', { class: 'peer-id', 'data-testid': 'peer-id' }),
      status: h('span', { class: 'pill', 'data-testid': 'peer-status' }),
      role: h('span', { class: 'peer-role', 'data-testid': 'peer-role' }),
      path: h('dd', { 'data-testid': 'peer-path' }),
      rtt: h('dd', { 'data-testid': 'peer-rtt' }),
      handshake: h('dd', { 'data-testid': 'peer-handshake' }),
      contact: h('dd', { 'data-testid': 'peer-last-contact' }),
      sent: h('dd', { 'data-testid': 'peer-bytes-sent' }),
      received: h('dd', { 'data-testid': 'peer-bytes-received' }),
      jobs: h('dd', { 'data-testid': 'peer-jobs' }),
      addresses: h('dd', { 'data-testid': 'peer-addresses' }),
      error: h('p', { class: 'peer-error', 'data-testid': 'peer-error', role: 'note' }),
      sync: h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'peer-sync' }, icon('retry'),
        h('span', { text: 'Sync now' })),
      rename: h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'peer-rename' },
        icon('pencil'), h('span', { text: 'Rename' })),
      block: h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'peer-block' }),
      remove: h('button', { class: 'btn btn-ghost btn-sm btn-danger-text', type: 'button', 'data-testid': 'peer-remove' },
        icon('trash'), h('span', { text: 'Remove' })),
      jobsLink: h('a', { class: 'peer-jobs-link', 'data-testid': 'peer-jobs-link',
        href: '#/replication?peer=' + encodeURIComponent(nodeId) }, 'See its jobs'),
    };
    const fact = (label, dd) => h('div', { class: 'fact' }, h('dt', { text: label }), dd);
    const element = h('article', { class: 'card peer-card', 'data-testid': 'peer-card', 'data-node-id': nodeId },
      h('div', { class: 'peer-head' },
        h('div', { class: 'peer-title' }, parts.name, h('div', { class: 'peer-sub' }, parts.role, parts.id)),
        parts.status),
      h('dl', { class: 'facts facts-grid' },
        fact('Path', parts.path), fact('Round trip', parts.rtt), fact('Last handshake', parts.handshake),
        fact('Last contact', parts.contact), fact('Sent', parts.sent), fact('Received', parts.received),
        fact('Jobs', parts.jobs), fact('Addresses', parts.addresses)),
      parts.error,
      h('div', { class: 'peer-actions' }, parts.sync, parts.rename, parts.block, parts.remove, parts.jobsLink));
    const entry = { element, parts, peer: null };
    parts.sync.addEventListener('click', () => syncNow(entry));
    parts.rename.addEventListener('click', () => rename(entry));
    parts.block.addEventListener('click', () => toggleBlock(entry));
    parts.remove.addEventListener('click', () => remove(entry));
    return entry;
  }

  function updateCard(entry, peer) {
    entry.peer = peer;
    const p = entry.parts;
    const name = nameOf(peer);
    p.name.textContent = name;
    p.id.textContent = shortId(peer.nodeId);
    p.id.title = peer.nodeId;
    p.role.textContent = ROLE_TEXT[peer.role] || peer.role || '';
    const state = peer.blocked ? 'blocked' : peer.online === true ? 'online' : peer.online === false ? 'offline' : 'unknown';
    p.status.dataset.state = state;
    p.status.textContent = { blocked: 'Blocked', online: 'Online', offline: 'Offline', unknown: 'Status unknown' }[state];
    entry.element.dataset.state = state;
    // The path of the last transfer, and the live WebRTC connection (picked by ICE) when one exists.
    const rtc = Array.isArray(peer.connections) ? peer.connections.find((c) => c && c.transport === 'webrtc') : null;
    const rtcPath = rtc && rtc.path ? PATH_TEXT[rtc.path] || rtc.path : '';
    p.path.textContent = (peer.path ? PATH_TEXT[peer.path] || peer.path : '—')
      + (!rtc ? '' : rtc.state === 'failed' ? ' · WebRTC failed, HTTP in use'
        : ' · WebRTC ' + (rtc.state || '') + (rtcPath ? ' (' + rtcPath + ')' : ''));
    p.path.title = rtc && rtc.lastError ? rtc.lastError : '';
    p.rtt.textContent = formatMillis(peer.rttMillis) || '—';
    p.handshake.textContent = peer.lastHandshakeAt ? formatRelative(peer.lastHandshakeAt) : 'Never';
    p.handshake.title = peer.lastHandshakeAt ? formatWhen(peer.lastHandshakeAt) : '';
    p.contact.textContent = peer.lastContactAt ? formatRelative(peer.lastContactAt) : 'Never';
    p.contact.title = peer.lastContactAt ? formatWhen(peer.lastContactAt) : '';
    p.sent.textContent = typeof peer.bytesSent === 'number' ? formatBytes(peer.bytesSent) : '—';
    p.received.textContent = typeof peer.bytesReceived === 'number' ? formatBytes(peer.bytesReceived) : '—';
    const jobs = peer.jobs || null;
    p.jobs.textContent = jobs
      ? [jobs.pending ? jobs.pending.toLocaleString() + ' waiting' : '', jobs.in_flight ? jobs.in_flight.toLocaleString() + ' sending' : '',
        jobs.failed ? jobs.failed.toLocaleString() + ' failed' : '', (jobs.done || 0).toLocaleString() + ' done'].filter(Boolean).join(' · ')
      : '—';
    p.addresses.textContent = Array.isArray(peer.addresses) && peer.addresses.length ? peer.addresses.join(', ') : '—';
    const errorText = peer.lastError
      ? 'Last error' + (peer.lastErrorAt ? ' (' + formatWhen(peer.lastErrorAt) + ')' : '') + ': ' + peer.lastError
      : '';
    p.error.textContent = errorText;
    p.error.hidden = !errorText;
    p.block.dataset.blocked = String(!!peer.blocked);
    p.block.replaceChildren(icon(peer.blocked ? 'check' : 'close'), h('span', { text: peer.blocked ? 'Unblock' : 'Block' }));
    p.block.setAttribute('aria-label', (peer.blocked ? 'Unblock ' : 'Block ') + name);
    p.sync.setAttribute('aria-label', 'Sync now with ' + name);
    p.sync.disabled = !!peer.blocked || p.sync.dataset.busy === 'true';
    p.rename.setAttribute('aria-label', 'Rename ' + name);
    p.remove.setAttribute('aria-label', 'Remove ' + name);
  }

  function renderPeers(peers) {
    const seen = new Set();
    let previous = null;
    for (const peer of peers) {
      seen.add(peer.nodeId);
      let entry = cards.get(peer.nodeId);
      if (!entry) {
        entry = peerCard(peer.nodeId);
        cards.set(peer.nodeId, entry);
      }
      updateCard(entry, peer);
      // Cards are updated in place and moved only when the order changed, so focus stays put.
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (entry.element !== expected) list.insertBefore(entry.element, expected);
      previous = entry.element;
    }
    for (const [nodeId, entry] of cards) {
      if (!seen.has(nodeId)) {
        entry.element.remove();
        cards.delete(nodeId);
      }
    }
    listEmpty.hidden = peers.length !== 0;
    if (peers.length === 0 && !listEmpty.firstChild) {
      listEmpty.append(emptyState({ iconName: 'shield', testid: 'peers-empty', title: 'No other node is paired yet',
        text: 'Pair a second node (at a relative’s home, or a small box in another room) so every photo has a copy '
          + 'somewhere else. Use the pairing line below.' }));
    }
    const online = peers.filter((p) => p.online && !p.blocked).length;
    shell.subtitle.textContent = peers.length
      ? plural(peers.length, 'paired node', 'paired nodes') + ' · ' + online.toLocaleString() + ' online'
      : 'The other nodes of your family that keep copies of your photos.';
  }

  let loadRun = 0;
  async function loadPeers() {
    const mine = ++loadRun;
    if (!cards.size && listEmpty.hidden) clear(listStatus).append(loadingState('Loading peers…'));
    // The status has health and traffic; the peers list adds addresses. Either may be away (503).
    const [status, peers] = await Promise.allSettled([api.replicationStatus(), api.peers()]);
    if (destroyed || mine !== loadRun) return;
    clear(listStatus);
    const statusPeers = status.status === 'fulfilled' && status.value && Array.isArray(status.value.peers) ? status.value.peers : null;
    const listPeers = peers.status === 'fulfilled' && Array.isArray(peers.value) ? peers.value : null;
    if (!statusPeers && !listPeers) {
      const error = peers.reason || status.reason;
      if (error && error.status === 401) return;
      list.replaceChildren();
      cards.clear();
      listEmpty.hidden = true;
      listStatus.append(errorState(error || new Error('The peers could not be loaded.'), loadPeers));
      return;
    }
    // Every paired node (blocked ones too, so they can be unblocked), with its health where known.
    const healthById = new Map((statusPeers || []).map((p) => [p.nodeId, p]));
    const merged = (listPeers || []).map((p) => ({ ...p, ...(healthById.get(p.nodeId) || {}) }));
    const listed = new Set(merged.map((p) => p.nodeId));
    for (const p of statusPeers || []) if (!listed.has(p.nodeId)) merged.push(p);
    statusNote.hidden = !!statusPeers;
    statusNote.textContent = statusPeers ? '' : 'Health and traffic are not available right now (the replication part is '
      + 'restarting); showing the paired nodes only.';
    renderPeers(merged);
  }

  async function syncNow(entry) {
    const peer = entry.peer;
    const button = entry.parts.sync;
    button.dataset.busy = 'true';
    button.disabled = true;
    button.querySelector('span').textContent = 'Syncing…';
    try {
      const result = await api.syncPeer(peer.nodeId);
      const name = nameOf(peer);
      if (result && result.reached) {
        const bits = [];
        if (result.applied) bits.push(plural(result.applied, 'change', 'changes') + ' received');
        const due = (result.requeued || 0) + (result.queued || 0);
        if (due) bits.push(plural(due, 'photo', 'photos') + ' to send');
        toast('Synced with ' + name + (bits.length ? ': ' + bits.join(', ') + '.' : '; nothing was missing.'));
      } else {
        const waiting = (result && (result.requeued || 0) + (result.queued || 0)) || 0;
        toast(name + ' could not be reached' + (result && result.error ? ' (' + result.error + ')' : '') + '. '
          + (waiting ? plural(waiting, 'photo waits', 'photos wait') + ' for it and will be sent when it is back.'
            : 'Sover keeps trying by itself.'), 'error');
      }
    } catch (error) {
      toastError(error);
    } finally {
      button.dataset.busy = 'false';
      button.querySelector('span').textContent = 'Sync now';
      if (!destroyed) loadPeers();
    }
  }

  async function rename(entry) {
    const peer = entry.peer;
    const updated = await formDialog({
      title: 'Rename node', label: 'Name shown for this node', value: peer.name || '', submitLabel: 'Save',
      testid: 'peer-rename-dialog', inputTestid: 'peer-name-input',
      validate: (name) => (!name ? 'Give the node a name, e.g. “Grandma’s box”.' : name.length > 200 ? 'At most 200 characters.' : ''),
      submit: (name) => api.renamePeer(peer.nodeId, name),
    });
    if (updated) {
      toast('Renamed to “' + (updated.name || '') + '”.');
      loadPeers();
    }
  }

  async function toggleBlock(entry) {
    const peer = entry.peer;
    const button = entry.parts.block;
    button.disabled = true;
    try {
      if (peer.blocked) {
        await api.unblockPeer(peer.nodeId);
        toast(nameOf(peer) + ' is unblocked; photos go there again.');
      } else {
        await api.blockPeer(peer.nodeId);
        toast(nameOf(peer) + ' is blocked: it cannot connect, and nothing is sent to it until you unblock it.');
      }
      await loadPeers();
    } catch (error) {
      toastError(error);
    } finally {
      button.disabled = false;
    }
  }

  async function remove(entry) {
    const peer = entry.peer;
    const ok = await confirmDialog({
      title: 'Remove ' + nameOf(peer) + '?',
      message: 'This node stops sending photos to it and forgets its key. Photos already there stay there. '
        + 'To pair again later you need a new pairing line.',
      confirmLabel: 'Remove node', danger: true, testid: 'peer-remove-dialog',
    });
    if (!ok) return;
    try {
      await api.removePeer(peer.nodeId);
      toast(nameOf(peer) + ' was removed.');
      await loadPeers();
    } catch (error) {
      toastError(error);
    }
  }

  // ---- Pairing ------------------------------------------------------------------------------

  const roleSelect = h('select', { class: 'input select', id: 'pairing-role', 'data-testid': 'pairing-role' },
    h('option', { value: 'full', text: 'Full member (holds and can open the family’s photos)' }),
    h('option', { value: 'storage', text: 'Storage only (keeps encrypted copies)' }));
  const createButton = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'pairing-create' },
    icon('shield'), h('span', { text: 'Create pairing line' }));
  const payloadBox = h('textarea', { class: 'input textarea mono', id: 'pairing-payload', readonly: true, rows: '4',
    'data-testid': 'pairing-payload', 'aria-describedby': 'pairing-expiry', spellcheck: 'false' });
  const copyButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'pairing-copy' },
    icon('file'), h('span', { text: 'Copy' }));
  const expiry = h('p', { class: 'field-hint', id: 'pairing-expiry', 'data-testid': 'pairing-expiry' });
  const payloadArea = h('div', { class: 'payload', hidden: true, 'data-testid': 'pairing-result' },
    h('label', { class: 'field-label', for: 'pairing-payload', text: 'This node’s pairing line' }),
    payloadBox, h('div', { class: 'payload-actions' }, copyButton, expiry));
  const createError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'pairing-error', hidden: true });

  createButton.addEventListener('click', async () => {
    createButton.disabled = true;
    createError.hidden = true;
    try {
      const result = await api.pairingPayload(roleSelect.value);
      payloadBox.value = result && result.payload ? result.payload : '';
      payloadArea.hidden = false;
      const until = payloadExpiry(payloadBox.value) || new Date(Date.now() + 15 * 60 * 1000).toISOString();
      expiry.textContent = 'Valid once, until ' + formatWhen(until) + '. Paste it on the other node’s Peers page.';
      payloadBox.focus();
      payloadBox.select();
    } catch (error) {
      createError.textContent = error.message;
      createError.hidden = false;
    } finally {
      createButton.disabled = false;
    }
  });

  copyButton.addEventListener('click', async () => {
    const text = payloadBox.value;
    if (!text) return;
    let copied = false;
    try {
      // The Clipboard API exists only on HTTPS or localhost; a LAN address is often plain http.
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        copied = true;
      }
    } catch (_) { /* fall back below */ }
    if (!copied) {
      payloadBox.focus();
      payloadBox.select();
      try {
        copied = document.execCommand('copy');
      } catch (_) {
        copied = false;
      }
    }
    copyButton.dataset.copied = String(copied);
    copyButton.querySelector('span').textContent = copied ? 'Copied' : 'Copy';
    toast(copied ? 'Pairing line copied.' : 'Select the line and copy it with Ctrl+C (⌘C on a Mac).', copied ? 'info' : 'error');
    setTimeout(() => {
      if (!destroyed) copyButton.querySelector('span').textContent = 'Copy';
    }, 2500);
  });

  const pasteBox = h('textarea', { class: 'input textarea mono', id: 'pair-input', rows: '4', 'data-testid': 'pair-input',
    placeholder: 'sover-pair:…', spellcheck: 'false', autocomplete: 'off' });
  const pairButton = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'pair-submit' },
    icon('plus'), h('span', { text: 'Pair' }));
  const pairError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'pair-error', hidden: true });
  const pairResult = h('p', { class: 'notice', role: 'status', 'data-testid': 'pair-result', hidden: true });
  const pairForm = h('form', { class: 'pair-form', novalidate: true, 'data-testid': 'pair-form' },
    h('label', { class: 'field-label', for: 'pair-input', text: 'Another node’s pairing line' }),
    pasteBox, pairError, pairResult, h('div', {}, pairButton));
  pasteBox.addEventListener('input', () => {
    pairError.hidden = true;
    pasteBox.removeAttribute('aria-invalid');
  });
  pairForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const payload = pasteBox.value.trim();
    pairResult.hidden = true;
    if (!payload.startsWith('sover-pair:')) {
      pairError.textContent = 'A pairing line starts with “sover-pair:”. Create one on the other node’s Peers page and paste it here.';
      pairError.hidden = false;
      pasteBox.setAttribute('aria-invalid', 'true');
      pasteBox.focus();
      return;
    }
    pairButton.disabled = true;
    pairButton.querySelector('span').textContent = 'Pairing…';
    pairError.hidden = true;
    try {
      const { status, body } = await api.pair(payload);
      if (status === 202) {
        pairResult.textContent = 'The other node put this request in its approval queue. Approve it there (Peers → '
          + 'Waiting for approval), then press Pair here again with the same line.';
        pairResult.hidden = false;
      } else {
        pasteBox.value = '';
        pairResult.textContent = 'Paired with ' + (body && body.name ? body.name : 'the other node') + '. Photos start to go there now.';
        pairResult.hidden = false;
        toast('Paired with ' + (body && body.name ? body.name : 'the other node') + '.');
        loadPeers();
      }
    } catch (error) {
      pairError.textContent = error.message;
      pairError.hidden = false;
      pasteBox.setAttribute('aria-invalid', 'true');
    } finally {
      pairButton.disabled = false;
      pairButton.querySelector('span').textContent = 'Pair';
    }
  });

  // ---- Approval queue -----------------------------------------------------------------------

  const pendingList = h('ul', { class: 'pending-list', 'data-testid': 'pending-list' });
  const pendingStatus = h('div', { 'data-testid': 'pending-status' });

  function pendingItem(request) {
    const name = request.name || 'node ' + shortId(request.nodeId);
    const approve = h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'pending-approve',
      'aria-label': 'Approve ' + name }, icon('check'), 'Approve');
    const deny = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'pending-deny',
      'aria-label': 'Deny ' + name }, icon('close'), 'Deny');
    const decide = async (approveIt) => {
      approve.disabled = true;
      deny.disabled = true;
      try {
        if (approveIt) {
          await api.approvePeer(request.nodeId);
          toast('Approved ' + name + '. Press Pair on that node again to finish.');
        } else {
          await api.denyPeer(request.nodeId);
          toast('Denied the request from ' + name + '.');
        }
        loadPending();
        loadPeers();
      } catch (error) {
        toastError(error);
        approve.disabled = false;
        deny.disabled = false;
      }
    };
    approve.addEventListener('click', () => decide(true));
    deny.addEventListener('click', () => decide(false));
    return h('li', { class: 'pending-item', 'data-testid': 'pending-peer', 'data-node-id': request.nodeId },
      h('div', { class: 'pending-text' },
        h('p', { class: 'pending-name', 'data-testid': 'pending-name', text: name }),
        h('p', { class: 'field-hint', text: [ROLE_TEXT[request.role] || request.role,
          Array.isArray(request.addresses) ? request.addresses.join(', ') : '',
          request.requestedAt ? 'asked ' + formatRelative(request.requestedAt) : ''].filter(Boolean).join(' · ') }),
        h('code', { class: 'peer-id', title: request.nodeId, text: request.nodeId })),
      h('div', { class: 'pending-actions' }, approve, deny));
  }

  async function loadPending() {
    try {
      const requests = await api.pendingPeers();
      if (destroyed) return;
      const listItems = Array.isArray(requests) ? requests : [];
      clear(pendingStatus);
      pendingList.replaceChildren(...listItems.map(pendingItem));
      if (listItems.length === 0) {
        pendingStatus.append(h('p', { class: 'muted', 'data-testid': 'pending-empty',
          text: 'No node is waiting. When another node pairs with this one and asks first, it shows up here.' }));
      }
    } catch (error) {
      if (destroyed || error.status === 401) return;
      pendingList.replaceChildren();
      clear(pendingStatus).append(h('p', { class: 'form-error', 'data-testid': 'pending-error', text: error.message }));
    }
  }

  shell.body.append(
    card('Paired nodes', 'peers-card', statusNote, listStatus, list, listEmpty),
    h('div', { class: 'card-row' },
      card('Pair: show this node’s line', 'pairing-card',
        h('p', { class: 'muted', text: 'Create a one-time line here and paste it on the other node.' }),
        h('label', { class: 'field-label', for: 'pairing-role', text: 'The other node will be' }),
        roleSelect, h('div', {}, createButton), createError, payloadArea),
      card('Pair: paste another node’s line', 'pair-card',
        h('p', { class: 'muted', text: 'Or create the line on the other node and paste it here.' }), pairForm)),
    card('Waiting for approval', 'pending-card', pendingStatus, pendingList));

  const refreshSoon = coalesce(() => {
    if (!destroyed) loadPeers();
  }, 1000);
  const pendingSoon = coalesce(() => {
    if (!destroyed) loadPending();
  }, 1000);
  shell.cleanups.push(onEvent('peer', refreshSoon), onEvent('jobs', refreshSoon), onEvent('hello', () => {
    refreshSoon();
    pendingSoon();
  }));
  // Round trip times and byte counts move without events: look again every 10 s.
  shell.cleanups.push(poll(() => Promise.all([loadPeers(), loadPending()]), 10));

  loadPeers();
  loadPending();

  return () => {
    destroyed = true;
    refreshSoon.cancel();
    pendingSoon.cancel();
    shell.cleanups.forEach((fn) => fn());
  };
}
