// Where a photo's bytes are: the badge on each tile, the per-node list in the viewer and the
// album summary, all from the photo's "replication" field (docs/API.md, Photos).
import { h, icon } from './dom.js';
import { formatWhen, plural, shortId } from './format.js';

const STATE_WORDS = {
  done: 'Stored',
  pending: 'Waiting',
  in_flight: 'Sending now',
  failed: 'Failed',
  unknown: 'Sent by another node',
};

function peerName(peer) {
  return peer && peer.name ? peer.name : 'node ' + shortId(peer && peer.nodeId);
}

/**
 * The replication of one photo for people.
 * @returns {{state: 'complete'|'waiting'|'failed'|'unknown', text: string, title: string}}
 *   state 'unknown' when the node left the field out (its replication part is restarting).
 */
export function describeReplication(photo) {
  const r = photo && photo.replication;
  if (!r || typeof r.target !== 'number' || typeof r.copies !== 'number') {
    return { state: 'unknown', text: 'Replication unknown',
      title: 'Where this photo is stored is not known right now; the node’s replication part may be restarting.' };
  }
  const peers = Array.isArray(r.peers) ? r.peers : [];
  if (r.copies >= r.target) {
    const text = r.copies + ' of ' + r.target + (r.target === 1 ? ' node' : ' nodes');
    return { state: 'complete', text,
      title: r.target === 1 ? 'Stored on this node. Pair another node to keep a second copy.'
        : 'Stored on every node (' + r.copies + ' of ' + r.target + ').' };
  }
  // A failure says more than a wait, so it wins; then the first node that does not have it yet.
  const failed = peers.find((p) => p.state === 'failed');
  if (failed) {
    const text = 'failed on ' + peerName(failed) + (failed.lastError ? ': ' + failed.lastError : '');
    const retry = failed.nextAttemptAt ? ' Next try ' + formatWhen(failed.nextAttemptAt) + '.' : '';
    return { state: 'failed', text, title: text + '.' + retry + ' ' + r.copies + ' of ' + r.target + ' nodes have it.' };
  }
  const waiting = peers.find((p) => p.state !== 'done') || null;
  const text = waiting ? 'waiting for ' + peerName(waiting) : r.copies + ' of ' + r.target + ' nodes';
  const next = waiting && waiting.nextAttemptAt ? ' Next try ' + formatWhen(waiting.nextAttemptAt) + '.' : '';
  return { state: 'waiting', text, title: text + ' (' + r.copies + ' of ' + r.target + ' nodes have it).' + next };
}

/** True when every node that should hold the photo holds it. */
export function isFullyReplicated(photo) {
  const r = photo && photo.replication;
  return !!r && typeof r.copies === 'number' && r.copies >= r.target;
}

/**
 * The small badge on a photo tile; updateBadge() changes it in place. One element with one text
 * node (its state mark is CSS), so 10,000 tiles stay light.
 */
export function replicationBadge(photo) {
  const badge = h('span', { class: 'repl-badge', 'data-testid': 'photo-replication' });
  updateBadge(badge, photo);
  return badge;
}

export function updateBadge(badge, photo) {
  const info = describeReplication(photo);
  if (badge.dataset.state === info.state && badge.title === info.title && badge.textContent === info.text) return info;
  badge.dataset.state = info.state;
  badge.title = info.title;
  badge.textContent = info.text;
  return info;
}

/** The viewer's list: one line per node with its state, error and next attempt. */
export function replicationDetails(photo) {
  const info = describeReplication(photo);
  const r = photo && photo.replication;
  const list = h('ul', { class: 'repl-peers' },
    h('li', { class: 'repl-peer', 'data-testid': 'viewer-replication-peer', 'data-state': 'done' },
      icon('check', 'repl-peer-icon'), h('span', { class: 'repl-peer-name', text: 'This node' }),
      h('span', { class: 'repl-peer-state', text: 'Stored' })));
  for (const peer of (r && Array.isArray(r.peers) ? r.peers : [])) {
    const extra = [];
    if (peer.lastError) extra.push(peer.lastError);
    if (peer.nextAttemptAt && peer.state !== 'done') extra.push('next try ' + formatWhen(peer.nextAttemptAt));
    list.append(h('li', { class: 'repl-peer', 'data-testid': 'viewer-replication-peer', 'data-state': peer.state,
      'data-node-id': peer.nodeId || '' },
    icon(peer.state === 'done' ? 'check' : peer.state === 'failed' ? 'alert' : 'clock', 'repl-peer-icon'),
    h('span', { class: 'repl-peer-name', text: peerName(peer) }),
    h('span', { class: 'repl-peer-state', text: STATE_WORDS[peer.state] || peer.state }),
    extra.length ? h('span', { class: 'repl-peer-error', text: extra.join(' · ') }) : null));
  }
  return h('div', { class: 'viewer-replication', 'data-testid': 'viewer-replication', 'data-state': info.state },
    h('p', { class: 'viewer-replication-summary', 'data-testid': 'viewer-replication-summary', text: info.text }),
    r ? list : null);
}

/**
 * "38 of 40 photos on every node". The whole album's counts come from the server (the album's
 * "replication", docs/API.md) when it sent them, so a 10,000-photo album is summed on the node,
 * not over the pages loaded; without them the loaded photos are counted and the text says so.
 */
export function albumSummary(photos, complete, albumCounts) {
  const known = photos.filter((p) => p.replication);
  if (photos.length === 0 && !(albumCounts && albumCounts.photos > 0)) return { state: 'empty', text: '' };
  if (known.length === 0 && !albumCounts) return { state: 'unknown', text: 'Replication status is not available right now' };
  const failed = known.filter((p) => describeReplication(p).state === 'failed').length;
  const everywhere = known.length > 0 && known.every((p) => p.replication.target <= 1)
    ? 'on this node (no other nodes paired)' : 'on every node';
  let full;
  let total;
  let text;
  if (albumCounts) {
    full = albumCounts.fullyReplicated;
    total = albumCounts.photos;
    text = full.toLocaleString() + ' of ' + plural(total, 'photo', 'photos') + ' ' + everywhere;
  } else {
    full = known.filter(isFullyReplicated).length;
    total = known.length;
    text = complete
      ? full.toLocaleString() + ' of ' + plural(total, 'photo', 'photos') + ' ' + everywhere
      : full.toLocaleString() + ' of the first ' + plural(total, 'photo', 'photos') + ' ' + everywhere;
  }
  const state = full >= total ? 'complete' : failed ? 'failed' : 'waiting';
  return { state, text: text + (failed ? ' · ' + failed.toLocaleString() + ' failed' : '') };
}
