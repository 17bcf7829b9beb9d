// The node dashboard (admin): identity, storage, signaling and ICE servers, transfer rates over
// the last ten minutes (an SVG chart built with DOM calls), the job queue, the switches, and a
// live diagnostics log (GET /v1/diagnostics, then "diag" events).
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { onEvent } from '../events.js';
import { formatBytes, formatClock, formatRate, formatWhen } from '../format.js';
import { errorState, loadingState, toast } from '../ui.js';
import { adminPage, card, facts, poll } from './admin.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART_W = 600;
const CHART_H = 160;
const LOG_LIMIT = 500;

const SIGNALING_TEXT = {
  not_installed: 'Not installed', connected: 'Connected', connecting: 'Connecting', disconnected: 'Disconnected',
  stopped: 'Stopped', error: 'Error',
};

const SWITCHES = [
  { key: 'pauseIncoming', label: 'Pause incoming', hint: 'Stop taking photos from other nodes for now.' },
  { key: 'pauseOutgoing', label: 'Pause outgoing', hint: 'Stop sending photos to other nodes for now; jobs wait.' },
  { key: 'signaling', label: 'Signaling', hint: 'Stay reachable through the signaling server, for nodes outside this network.',
    capability: 'signaling' },
  { key: 'p2p', label: 'Peer-to-peer (WebRTC)', hint: 'Send directly between nodes across the internet.', capability: 'p2p' },
];

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export function renderNode(root, params, app) {
  const shell = adminPage(root, app, { name: 'node', title: 'This node',
    subtitle: 'Identity, storage, connections and what it is doing right now.' });
  if (!shell) return undefined;
  let destroyed = false;
  let node = null;
  let built = false;

  const status = h('div', { 'data-testid': 'node-status' });
  const grid = h('div', { class: 'dash-grid', hidden: true });
  shell.body.append(status, grid);

  // ---- Cards, built once and updated on every refresh --------------------------------------

  const identity = h('div');
  const storage = h('div');
  const storageBar = h('div', { class: 'progress-bar' });
  const storageMeter = h('div', { class: 'progress meter', role: 'meter', 'aria-label': 'Disk used by photos',
    'aria-valuemin': '0', 'aria-valuemax': '100', 'data-testid': 'node-storage-bar' }, storageBar);
  const queueStats = new Map();
  const queue = h('div', { class: 'stat-row', 'data-testid': 'node-queue' },
    ...[['pending', 'Pending'], ['in_flight', 'In flight'], ['done', 'Done'], ['failed', 'Failed']].map(([key, label]) => {
      const value = h('span', { class: 'stat-value', text: '—' });
      queueStats.set(key, value);
      return h('a', { class: 'stat', href: '#/replication' + (key === 'pending' ? '' : '?state=' + key), 'data-state': key,
        'data-testid': 'node-queue-' + key.replace('_', '-') }, value, h('span', { class: 'stat-label', text: label }));
    }));
  const signaling = h('div');
  const ice = h('ul', { class: 'plain-list', 'data-testid': 'node-ice-servers' });
  const transports = h('ul', { class: 'plain-list', 'data-testid': 'node-transports' });

  const chart = svg('svg', { class: 'chart', viewBox: '0 0 ' + CHART_W + ' ' + CHART_H, preserveAspectRatio: 'none',
    role: 'img', 'data-testid': 'node-transfer-chart' });
  const chartTitle = svg('title');
  const gridLines = svg('g', { class: 'chart-grid' });
  for (const y of [0.25, 0.5, 0.75]) {
    gridLines.append(svg('line', { x1: 0, x2: CHART_W, y1: CHART_H * y, y2: CHART_H * y, 'vector-effect': 'non-scaling-stroke' }));
  }
  const receivedArea = svg('path', { class: 'chart-area chart-area-received' });
  const sentArea = svg('path', { class: 'chart-area chart-area-sent' });
  const receivedLine = svg('polyline', { class: 'chart-line chart-received', 'vector-effect': 'non-scaling-stroke',
    'data-testid': 'node-chart-received' });
  const sentLine = svg('polyline', { class: 'chart-line chart-sent', 'vector-effect': 'non-scaling-stroke',
    'data-testid': 'node-chart-sent' });
  chart.append(chartTitle, gridLines, receivedArea, sentArea, receivedLine, sentLine);
  const chartMax = h('span', { class: 'chart-max', 'data-testid': 'node-chart-max' });
  const chartStart = h('span', { 'data-testid': 'node-chart-start' });
  const rateSent = h('strong', { 'data-testid': 'node-rate-sent' });
  const rateReceived = h('strong', { 'data-testid': 'node-rate-received' });
  const totalSent = h('span', { 'data-testid': 'node-sent-total' });
  const totalReceived = h('span', { 'data-testid': 'node-received-total' });
  const chartEmpty = h('p', { class: 'muted chart-empty', 'data-testid': 'node-chart-empty', hidden: true,
    text: 'No transfer samples yet; they appear every 5 seconds.' });

  const transfer = h('div', { class: 'transfer' },
    h('div', { class: 'legend' },
      h('span', { class: 'legend-item legend-sent' }, h('span', { class: 'legend-swatch', 'aria-hidden': 'true' }),
        'Sent ', rateSent, h('span', { class: 'muted' }, ' · total ', totalSent)),
      h('span', { class: 'legend-item legend-received' }, h('span', { class: 'legend-swatch', 'aria-hidden': 'true' }),
        'Received ', rateReceived, h('span', { class: 'muted' }, ' · total ', totalReceived))),
    h('div', { class: 'chart-box' }, chartMax, chart, chartEmpty),
    h('div', { class: 'chart-axis' }, chartStart, h('span', { text: 'now' })));

  // ---- Switches -----------------------------------------------------------------------------

  const switchParts = new Map();
  const switchList = h('div', { class: 'switches', 'data-testid': 'node-switches' });
  for (const def of SWITCHES) {
    const id = 'switch-' + def.key;
    const testid = 'switch-' + def.key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const input = h('input', { class: 'switch-input', type: 'checkbox', role: 'switch', id, 'data-testid': testid,
      'aria-describedby': id + '-hint' });
    const note = h('span', { class: 'switch-note', 'data-testid': testid + '-note' });
    const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': testid + '-error', hidden: true });
    input.addEventListener('change', () => changeSwitch(def, input.checked));
    switchList.append(h('div', { class: 'switch-row' },
      h('div', { class: 'switch-text' },
        h('label', { class: 'switch-label', for: id, text: def.label }), note,
        h('p', { class: 'field-hint', id: id + '-hint', text: def.hint }), error),
      input));
    switchParts.set(def.key, { input, note, error, def });
  }

  async function changeSwitch(def, value) {
    const parts = switchParts.get(def.key);
    parts.input.disabled = true;
    parts.error.hidden = true;
    try {
      const switches = await api.setSwitches({ [def.key]: value });
      if (destroyed) return;
      if (node) node.switches = { ...node.switches, ...(switches || {}) };
      toast(def.label + (value ? ' is on.' : ' is off.'));
    } catch (error) {
      if (destroyed) return;
      parts.error.textContent = error.message;
      parts.error.hidden = false;
      parts.input.checked = !value;
    } finally {
      if (!destroyed) renderSwitches();
    }
  }

  function renderSwitches() {
    const switches = (node && node.switches) || {};
    const capabilities = (node && node.capabilities) || {};
    for (const { input, note, def } of switchParts.values()) {
      const installed = !def.capability || capabilities[def.capability] === true;
      input.checked = switches[def.key] === true;
      input.disabled = !installed;
      input.dataset.installed = String(installed);
      note.textContent = installed ? (input.checked ? 'On' : 'Off') : 'not installed';
      note.dataset.state = installed ? (input.checked ? 'on' : 'off') : 'not-installed';
    }
  }

  // ---- Diagnostics log ----------------------------------------------------------------------

  const log = h('ol', { class: 'diag-log', 'data-testid': 'diag-log', tabindex: '0', 'aria-label': 'Diagnostics log',
    'data-min-level': 'info' });
  const logStatus = h('p', { class: 'muted', 'data-testid': 'diag-status' });
  const follow = h('input', { type: 'checkbox', id: 'diag-follow', checked: true, 'data-testid': 'diag-follow' });
  const levelSelect = h('select', { class: 'input select input-sm', id: 'diag-level', 'data-testid': 'diag-level' },
    h('option', { value: 'info', text: 'Everything' }),
    h('option', { value: 'warn', text: 'Warnings and errors' }),
    h('option', { value: 'error', text: 'Errors only' }));
  levelSelect.addEventListener('change', () => {
    log.dataset.minLevel = levelSelect.value;
  });
  const clearButton = h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-testid': 'diag-clear',
    onclick: () => {
      log.replaceChildren();
      logStatus.textContent = 'Cleared; new lines appear as they come.';
    } }, icon('trash'), 'Clear');
  const logControls = h('div', { class: 'diag-controls' },
    h('label', { class: 'inline-check', for: 'diag-follow' }, follow, h('span', { text: 'Follow new lines' })),
    h('label', { class: 'visually-hidden', for: 'diag-level', text: 'Show' }), levelSelect, clearButton);

  let lastSeq = null;
  let diagAvailable = true;
  let diagLoaded = false;
  let early = []; // live lines that came before the first page of the log
  const seqs = new Set();

  function appendLines(lines) {
    if (!lines.length) return;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    const fragment = document.createDocumentFragment();
    for (const line of lines) {
      if (typeof line.seq === 'number') {
        if (seqs.has(line.seq)) continue;
        seqs.add(line.seq);
        lastSeq = lastSeq === null ? line.seq : Math.max(lastSeq, line.seq);
      }
      const level = ['info', 'warn', 'error'].includes(line.level) ? line.level : 'info';
      fragment.append(h('li', { class: 'diag-line', 'data-testid': 'diag-line', 'data-level': level,
        'data-seq': line.seq === undefined ? null : String(line.seq) },
      h('time', { class: 'diag-time', datetime: line.at || null, text: formatClock(line.at) }),
      h('span', { class: 'diag-level', text: level }),
      h('span', { class: 'diag-message', text: line.message || '' })));
    }
    log.append(fragment);
    while (log.childElementCount > LOG_LIMIT) {
      const first = log.firstElementChild;
      seqs.delete(Number(first.dataset.seq));
      first.remove();
    }
    if (follow.checked && (atBottom || log.childElementCount <= lines.length)) log.scrollTop = log.scrollHeight;
    logStatus.textContent = '';
  }

  /** Loads what the log missed (at first, and after the live stream reconnects). */
  async function loadDiagnostics() {
    try {
      for (let round = 0; round < 5; round++) {
        const page = await api.diagnostics(lastSeq, 200);
        if (destroyed) return;
        const items = page && Array.isArray(page.items) ? page.items : [];
        appendLines(items);
        if (page && typeof page.next === 'number') lastSeq = lastSeq === null ? page.next : Math.max(lastSeq, page.next);
        if (items.length < 200) break;
      }
      diagAvailable = true;
      if (!diagLoaded) {
        diagLoaded = true;
        appendLines(early);
        early = [];
      }
      if (!log.childElementCount) logStatus.textContent = 'Nothing logged yet.';
    } catch (error) {
      if (destroyed || error.status === 401) return;
      diagAvailable = error.status !== 404;
      if (!diagLoaded) {
        diagLoaded = true;
        appendLines(early);
        early = [];
      }
      if (log.childElementCount) return;
      logStatus.textContent = error.status === 404
        ? 'This node does not offer diagnostics yet. They appear here once it is updated.'
        : 'Diagnostics could not be loaded: ' + error.message;
    }
  }

  shell.cleanups.push(onEvent('diag', (line) => {
    if (!diagLoaded) {
      if (early.length < LOG_LIMIT) early.push(line);
      return;
    }
    if (lastSeq !== null && typeof line.seq === 'number' && line.seq <= lastSeq) return;
    appendLines([line]);
  }));

  // ---- Refresh ------------------------------------------------------------------------------

  function build() {
    built = true;
    grid.append(
      card('Identity', 'node-identity-card', identity),
      card('Storage', 'node-storage-card', storage, storageMeter),
      card('Queue', 'node-queue-card', queue,
        h('a', { class: 'card-link', href: '#/replication', 'data-testid': 'node-queue-link' }, 'See the jobs', icon('right'))),
      card('Connections', 'node-connections-card', signaling,
        h('h3', { class: 'card-subtitle', text: 'ICE servers' }), ice,
        h('h3', { class: 'card-subtitle', text: 'Transports' }), transports),
      card('Switches', 'node-switches-card', switchList),
      h('div', { class: 'dash-wide' }, card('Transfer rates (last 10 minutes)', 'node-transfer-card', transfer)),
      h('div', { class: 'dash-wide' }, card('Diagnostics', 'node-diagnostics-card', logControls, log, logStatus)));
    grid.hidden = false;
  }

  function renderNodeInfo() {
    const s = node.storage || {};
    const q = node.queue || {};
    const sig = node.signaling || {};
    identity.replaceChildren(facts([
      ['Name', node.name, 'node-name'],
      ['Node id', h('code', { class: 'wrap', text: node.nodeId || '' }), 'node-id'],
      ['Fingerprint', h('code', { class: 'wrap', text: node.fingerprint || '' }), 'node-fingerprint'],
      ['Version', node.version, 'node-version'],
      ['Addresses', Array.isArray(node.addresses) && node.addresses.length ? node.addresses.join(', ') : '', 'node-addresses'],
    ], 'node-identity'));
    const used = typeof s.blobBytes === 'number' ? s.blobBytes : null;
    const free = typeof s.freeBytes === 'number' ? s.freeBytes : null;
    storage.replaceChildren(facts([
      ['Data directory', h('code', { class: 'wrap', text: s.dataDirectory || '' }), 'node-data-dir'],
      ['Photos take', used === null ? '' : formatBytes(used), 'node-storage-used'],
      ['Free on the disk', free === null ? '' : formatBytes(free), 'node-storage-free'],
      ['Photos and albums', typeof s.photos === 'number'
        ? s.photos.toLocaleString() + ' photos in ' + (s.albums || 0).toLocaleString() + ' albums' : '', 'node-photo-count'],
    ], 'node-storage'));
    const share = used !== null && free !== null && used + free > 0 ? Math.round((used / (used + free)) * 100) : 0;
    storageBar.style.width = share + '%';
    storageMeter.setAttribute('aria-valuenow', String(share));
    storageMeter.setAttribute('aria-valuetext', share + '% of the disk holds photos');
    storageMeter.classList.toggle('is-full', free !== null && used !== null && free < (used + free) * 0.05);
    // Updated in place: the stats are links, and a redraw every 5 s would take the focus away.
    for (const [key, value] of queueStats) {
      value.textContent = typeof q[key] === 'number' ? q[key].toLocaleString() : '—';
      value.parentElement.dataset.nonzero = String(q[key] > 0);
    }
    const sigState = sig.state || 'not_installed';
    signaling.replaceChildren(facts([
      ['Signaling server', (sig.url || 'None') + (sig.embedded ? ' (built into the nodes: no operator set)' : ''),
        'node-signaling-url'],
      ['State', h('span', { class: 'pill', 'data-state': sigState, text: SIGNALING_TEXT[sigState] || sigState }),
        'node-signaling-state'],
      ...(sig.lastError ? [['Last error', sig.lastError, 'node-signaling-error']] : []),
    ], 'node-signaling'));
    // ICE servers: the URLs only; a TURN username or credential is never shown.
    const servers = Array.isArray(node.iceServers) ? node.iceServers : [];
    const urls = servers.flatMap((server) => (typeof server === 'string' ? [server]
      : Array.isArray(server && server.urls) ? server.urls : server && server.urls ? [server.urls] : server && server.url ? [server.url] : []));
    ice.replaceChildren(...(urls.length ? urls.map((url) => h('li', { 'data-testid': 'node-ice-server' }, h('code', { text: String(url) })))
      : [h('li', { class: 'muted', text: 'None configured (set STUN and TURN on the Settings page).' })]));
    const ts = Array.isArray(node.transports) ? node.transports : [];
    transports.replaceChildren(...(ts.length ? ts.map((t) => h('li', { 'data-testid': 'node-transport',
      text: t.name + (typeof t.ranking === 'number' ? ' (ranking ' + t.ranking + ')' : '') }))
      : [h('li', { class: 'muted', text: 'None' })]));
    renderChart();
    renderSwitches();
  }

  function renderChart() {
    const t = node.transfer || {};
    const samples = Array.isArray(t.samples) ? t.samples : [];
    totalSent.textContent = formatBytes(t.sentBytes || 0) || '0 B';
    totalReceived.textContent = formatBytes(t.receivedBytes || 0) || '0 B';
    const last = samples[samples.length - 1] || {};
    rateSent.textContent = formatRate(last.sentBytesPerSecond);
    rateReceived.textContent = formatRate(last.receivedBytesPerSecond);
    chartEmpty.hidden = samples.length >= 2;
    chart.classList.toggle('is-empty', samples.length < 2);
    const max = Math.max(1024, ...samples.map((x) => Math.max(x.sentBytesPerSecond || 0, x.receivedBytesPerSecond || 0)));
    chartMax.textContent = formatRate(max);
    chartStart.textContent = samples.length ? formatClock(samples[0].at) : '';
    // The x axis is the sample index (they are 5 s apart); 120 samples fill the width.
    const slots = Math.max(samples.length - 1, 1);
    const point = (value, i) => {
      const x = (i / slots) * CHART_W;
      const y = CHART_H - Math.min(1, (value || 0) / max) * (CHART_H - 4);
      return x.toFixed(1) + ',' + y.toFixed(1);
    };
    const sentPoints = samples.map((x, i) => point(x.sentBytesPerSecond, i));
    const receivedPoints = samples.map((x, i) => point(x.receivedBytesPerSecond, i));
    sentLine.setAttribute('points', sentPoints.join(' '));
    receivedLine.setAttribute('points', receivedPoints.join(' '));
    const area = (points) => (points.length < 2 ? '' : 'M0,' + CHART_H + ' L' + points.join(' L') + ' L' + CHART_W + ',' + CHART_H + ' Z');
    sentArea.setAttribute('d', area(sentPoints));
    receivedArea.setAttribute('d', area(receivedPoints));
    chartTitle.textContent = 'Transfer rates: now sending ' + formatRate(last.sentBytesPerSecond) + ', receiving '
      + formatRate(last.receivedBytesPerSecond) + '; highest in the window ' + formatRate(max) + '.';
  }

  let loadRun = 0;
  async function load() {
    const mine = ++loadRun;
    if (!node) clear(status).append(loadingState('Loading this node…'));
    try {
      const fresh = await api.node();
      if (destroyed || mine !== loadRun) return;
      node = fresh || {};
      clear(status);
      if (!built) {
        build();
        loadDiagnostics();
      }
      renderNodeInfo();
      shell.subtitle.textContent = (node.name ? node.name + ' · ' : '') + 'updated ' + formatWhen(new Date().toISOString());
    } catch (error) {
      if (destroyed || mine !== loadRun || error.status === 401) return;
      if (node) {
        // Keep the last picture; say it is not current.
        shell.subtitle.textContent = 'Could not refresh: ' + error.message;
        return;
      }
      clear(status).append(errorState(error.status === 404
        ? { message: 'This node does not offer its dashboard yet (it is being updated). This page tries again by itself.' }
        : error, load));
    }
  }

  shell.cleanups.push(onEvent('hello', () => {
    if (built && diagAvailable) loadDiagnostics();
  }));
  shell.cleanups.push(poll(load, 5));
  load();

  return () => {
    destroyed = true;
    shell.cleanups.forEach((fn) => fn());
  };
}
