// The vault REST API (/v1, same origin; see docs/API.md). Every failure becomes an ApiError
// carrying the API's {"error","message"}; a 401 also tells the app to show the login screen.

export class ApiError extends Error {
  /** @param field for a 400 on a settings write: the setting it is about ("retry.maxAttempts") */
  constructor(status, code, message, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const NETWORK_MESSAGE =
  "Can't reach your Sover node. Check that it is switched on and connected, then try again.";

const FALLBACK_MESSAGES = {
  401: 'Your session has ended. Please sign in again.',
  403: 'You are not allowed to do that.',
  404: 'That could not be found. It may have been deleted on another device.',
  413: 'That file is too large for this node.',
  415: 'That file is not a photo or video Sover can store.',
  429: 'Too many attempts. Wait a few minutes, then try again.',
  503: 'Part of your node is restarting. Try again in a moment.',
  507: 'Your node is out of disk space; nothing was stored. Free some space, then try again.',
};

export function fallbackMessage(status) {
  return FALLBACK_MESSAGES[status] ||
    (status >= 500 ? 'Your node ran into a problem (' + status + '). Try again in a moment.'
      : 'The request failed (' + status + ').');
}

/** Builds an ApiError from a status and a response body text (JSON error body or anything else). */
export function errorFrom(status, bodyText) {
  let code = 'http_' + status;
  let message = '';
  let field = null;
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body === 'object') {
      code = typeof body.error === 'string' ? body.error : code;
      message = typeof body.message === 'string' ? body.message : '';
      field = typeof body.field === 'string' ? body.field : null;
    }
  } catch (_) { /* not JSON: keep the fallback */ }
  return new ApiError(status, code, message || fallbackMessage(status), field);
}

export function notifyUnauthenticated() {
  window.dispatchEvent(new CustomEvent('sover:unauthenticated'));
}

async function request(method, path, { json, quiet401 = false, withStatus = false } = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (_) {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    const error = errorFrom(response.status, text);
    if (response.status === 401 && !quiet401) notifyUnauthenticated();
    throw error;
  }
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch (_) {
      throw new ApiError(response.status, 'bad_response', 'Your node sent an answer Sover could not read. Reload the page.');
    }
  }
  // Some answers differ only by status (pairing: 201 paired, 202 waiting for approval).
  return withStatus ? { status: response.status, body } : body;
}

const seg = (id) => encodeURIComponent(id);

function pageQuery(cursor, limit) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

export const api = {
  setupStatus: () => request('GET', '/v1/setup'),
  // 401 here means a wrong setup code or password, not an expired session.
  setup: (setupCode, username, password) =>
    request('POST', '/v1/setup', { json: { setupCode, username, password }, quiet401: true }),
  login: (username, password) => request('POST', '/v1/session', { json: { username, password }, quiet401: true }),
  session: () => request('GET', '/v1/session', { quiet401: true }),
  logout: () => request('DELETE', '/v1/session', { quiet401: true }),

  albums: () => request('GET', '/v1/albums'),
  album: (id) => request('GET', '/v1/albums/' + seg(id)),
  createAlbum: (name) => request('POST', '/v1/albums', { json: { name } }),
  renameAlbum: (id, name) => request('PATCH', '/v1/albums/' + seg(id), { json: { name } }),
  deleteAlbum: (id) => request('DELETE', '/v1/albums/' + seg(id)),
  albumPhotos: (id, cursor, limit = 200) =>
    request('GET', '/v1/albums/' + seg(id) + '/photos?' + pageQuery(cursor, limit)),

  timeline: (cursor, limit = 200) => request('GET', '/v1/timeline?' + pageQuery(cursor, limit)),
  photo: (id) => request('GET', '/v1/photos/' + seg(id)),
  movePhoto: (id, albumId) => request('PATCH', '/v1/photos/' + seg(id), { json: { albumId } }),
  deletePhoto: (id) => request('DELETE', '/v1/photos/' + seg(id)),

  // Node dashboard (GET: any signed-in user; the rest: admin)
  node: () => request('GET', '/v1/node'),
  setSwitches: (switches) => request('PUT', '/v1/node/switches', { json: switches }),
  diagnostics: (after, limit = 200) => request('GET', '/v1/diagnostics?' + new URLSearchParams(
    after === null || after === undefined ? { limit: String(limit) } : { after: String(after), limit: String(limit) })),
  settings: () => request('GET', '/v1/settings'),
  saveSettings: (changes) => request('PUT', '/v1/settings', { json: changes }),

  // Replication (status: any signed-in user; jobs: admin)
  replicationStatus: () => request('GET', '/v1/replication/status'),
  jobs: ({ state, peer, cursor, limit = 100 }) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (state) params.set('state', state);
    if (peer) params.set('peer', peer);
    if (cursor) params.set('cursor', cursor);
    return request('GET', '/v1/jobs?' + params);
  },
  requeueJobs: (ids) => request('POST', '/v1/jobs/requeue', { json: { ids } }),
  requeuePeer: (peer) => request('POST', '/v1/jobs/requeue', { json: { peer } }),
  requeueAllFailed: () => request('POST', '/v1/jobs/requeue', { json: { allFailed: true } }),

  // Peers (admin)
  peers: () => request('GET', '/v1/peers'),
  pairingPayload: (role) => request('POST', '/v1/peers/pairing', { json: { role } }),
  pair: (payload) => request('POST', '/v1/peers', { json: { payload }, withStatus: true }),
  renamePeer: (nodeId, name) => request('PATCH', '/v1/peers/' + seg(nodeId), { json: { name } }),
  removePeer: (nodeId) => request('DELETE', '/v1/peers/' + seg(nodeId)),
  blockPeer: (nodeId) => request('POST', '/v1/peers/' + seg(nodeId) + '/block'),
  unblockPeer: (nodeId) => request('POST', '/v1/peers/' + seg(nodeId) + '/unblock'),
  syncPeer: (nodeId) => request('POST', '/v1/peers/' + seg(nodeId) + '/sync'),
  pendingPeers: () => request('GET', '/v1/peers/pending'),
  approvePeer: (nodeId) => request('POST', '/v1/peers/pending/' + seg(nodeId) + '/approve'),
  denyPeer: (nodeId) => request('POST', '/v1/peers/pending/' + seg(nodeId) + '/deny'),

  thumbnailUrl: (id) => '/v1/photos/' + seg(id) + '/thumbnail',
  originalUrl: (id) => '/v1/photos/' + seg(id) + '/original',
  uploadUrl: (albumId) => '/v1/albums/' + seg(albumId) + '/photos',
};
