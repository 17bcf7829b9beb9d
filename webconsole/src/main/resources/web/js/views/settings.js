// Settings (admin): retry policy, redundancy, bandwidth limits, signaling and STUN/TURN URLs.
// GET /v1/settings fills the form; Save sends only what changed (PUT /v1/settings); a 400 names
// the field ("retry.maxAttempts") and its message is shown next to that field.
import { api } from '../api.js';
import { h, icon, clear } from '../dom.js';
import { errorState, loadingState, toast } from '../ui.js';
import { adminPage } from './admin.js';

// kind: 'int' | 'number' | 'text' | 'list' (one URL a line)
const GROUPS = [
  { title: 'Retry policy', testid: 'settings-retry',
    intro: 'How often a node tries again to send a photo to a node that did not answer.',
    fields: [
      { path: 'retry.initialBackoffSeconds', label: 'First pause', unit: 'seconds', kind: 'int', min: 1,
        hint: 'Wait this long after the first failure.' },
      { path: 'retry.multiplier', label: 'Growth per attempt', unit: '×', kind: 'number', min: 1, step: '0.1',
        hint: 'Each pause is this many times the one before.' },
      { path: 'retry.maxBackoffSeconds', label: 'Longest pause', unit: 'seconds', kind: 'int', min: 1,
        hint: 'Pauses never grow beyond this.' },
      { path: 'retry.jitter', label: 'Jitter', unit: '0–1', kind: 'number', min: 0, max: 1, step: '0.05',
        hint: 'Spreads retries a little, so nodes do not all knock at once (0.2 = ±20%).' },
      { path: 'retry.maxAttempts', label: 'Attempts before a job fails', unit: 'attempts', kind: 'int', min: 1,
        hint: 'After this many, the job shows as failed until it cools down or you requeue it.' },
      { path: 'retry.coolDownSeconds', label: 'Cool-down of a failed job', unit: 'seconds', kind: 'int', min: 0,
        hint: 'A failed job starts over by itself after this long.' },
    ] },
  { title: 'Redundancy and bandwidth', testid: 'settings-replication',
    intro: 'How many copies to keep and how much of the connection replication may use.',
    fields: [
      { path: 'replication.redundancyTarget', label: 'Copies to keep', unit: 'nodes', kind: 'int', min: 0,
        hint: '0 = on every paired node.' },
      { path: 'replication.parallelTransfers', label: 'Transfers at once', unit: 'transfers', kind: 'int', min: 1,
        hint: 'How many photos are sent at the same time.' },
      { path: 'replication.pullIntervalSeconds', label: 'Look for changes every', unit: 'seconds', kind: 'int', min: 1,
        hint: 'How often this node asks the others what is new.' },
      { path: 'replication.maxSendKiBps', label: 'Upload limit', unit: 'KiB/s', kind: 'int', min: 0,
        hint: '0 = unlimited.' },
      { path: 'replication.maxReceiveKiBps', label: 'Download limit', unit: 'KiB/s', kind: 'int', min: 0,
        hint: '0 = unlimited.' },
    ] },
  { title: 'Signaling and STUN/TURN', testid: 'settings-signaling',
    intro: 'Servers that help nodes in different homes find each other. Leave empty to stay on the local network.',
    fields: [
      { path: 'signaling.url', label: 'Signaling server URL', kind: 'text', placeholder: 'wss://signal.example.org',
        hint: 'The operator’s signaling endpoint (wss://…).' },
      { path: 'signaling.stunUrls', label: 'STUN servers', kind: 'list', placeholder: 'stun:stun.example.org:3478',
        hint: 'One URL a line.' },
      { path: 'signaling.turnUrls', label: 'TURN servers', kind: 'list', placeholder: 'turns:turn.example.org:5349',
        hint: 'One URL a line. Credentials are set on the node, never here.' },
    ] },
];

const FIELDS = GROUPS.flatMap((g) => g.fields);

function getPath(object, path) {
  return path.split('.').reduce((value, key) => (value && typeof value === 'object' ? value[key] : undefined), object);
}

function setPath(object, path, value) {
  const keys = path.split('.');
  let target = object;
  for (const key of keys.slice(0, -1)) {
    if (!target[key] || typeof target[key] !== 'object') target[key] = {};
    target = target[key];
  }
  target[keys[keys.length - 1]] = value;
}

/** "retry.maxAttempts" -> "setting-retry-maxAttempts" */
export function settingTestid(path) {
  return 'setting-' + path.replace(/\./g, '-');
}

export function renderSettings(root, params, app) {
  const shell = adminPage(root, app, { name: 'settings', title: 'Settings',
    subtitle: 'Changes apply at once; the node does not restart.' });
  if (!shell) return undefined;
  let destroyed = false;
  let loaded = null;
  const controls = new Map(); // path -> {input, error, def}

  const status = h('div', { 'data-testid': 'settings-status' });
  const formError = h('p', { class: 'form-error form-error-box', role: 'alert', 'data-testid': 'settings-error', hidden: true });
  const saveButton = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'settings-save' },
    icon('check'), h('span', { text: 'Save settings' }));
  const resetButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'settings-reset',
    onclick: () => fill(loaded) }, 'Discard changes');
  const saved = h('p', { class: 'muted', role: 'status', 'data-testid': 'settings-saved' });
  const form = h('form', { class: 'settings-form', novalidate: true, 'data-testid': 'settings-form', hidden: true });

  for (const group of GROUPS) {
    const fieldset = h('fieldset', { class: 'card settings-group', 'data-testid': group.testid },
      h('legend', { class: 'card-title', text: group.title }),
      h('p', { class: 'muted settings-intro', text: group.intro }));
    const grid = h('div', { class: 'settings-grid' });
    for (const def of group.fields) {
      const id = 'set-' + def.path.replace(/\./g, '-');
      const testid = settingTestid(def.path);
      const input = def.kind === 'list'
        ? h('textarea', { class: 'input textarea mono', id, rows: '3', 'data-testid': testid, placeholder: def.placeholder,
          spellcheck: 'false', 'aria-describedby': id + '-hint ' + id + '-error' })
        : h('input', { class: 'input', id, 'data-testid': testid, name: def.path,
          type: def.kind === 'text' ? 'url' : 'number', inputmode: def.kind === 'int' ? 'numeric' : def.kind === 'number' ? 'decimal' : null,
          step: def.kind === 'int' ? '1' : def.step || null, min: def.min, max: def.max, placeholder: def.placeholder,
          autocomplete: 'off', spellcheck: def.kind === 'text' ? 'false' : null, 'aria-describedby': id + '-hint ' + id + '-error' });
      const error = h('p', { class: 'form-error', id: id + '-error', role: 'alert', 'data-testid': testid + '-error', hidden: true });
      input.addEventListener('input', () => showFieldError(def.path, ''));
      grid.append(h('div', { class: 'field' + (def.kind === 'list' || def.kind === 'text' ? ' field-wide' : '') },
        h('label', { class: 'field-label', for: id }, def.label, def.unit ? h('span', { class: 'field-unit', text: ' (' + def.unit + ')' }) : null),
        input,
        h('p', { class: 'field-hint', id: id + '-hint', text: def.hint }),
        error));
      controls.set(def.path, { input, error, def });
    }
    fieldset.append(grid);
    form.append(fieldset);
  }
  form.append(formError, h('div', { class: 'form-actions' }, saveButton, resetButton, saved));
  shell.body.append(status, form);

  function showFieldError(path, message) {
    const control = controls.get(path);
    if (!control) return;
    control.error.textContent = message;
    control.error.hidden = !message;
    if (message) control.input.setAttribute('aria-invalid', 'true');
    else control.input.removeAttribute('aria-invalid');
  }

  function clearErrors() {
    for (const path of controls.keys()) showFieldError(path, '');
    formError.hidden = true;
  }

  function fill(settings) {
    if (!settings) return;
    clearErrors();
    saved.textContent = '';
    for (const [path, { input, def }] of controls) {
      const value = getPath(settings, path);
      if (def.kind === 'list') input.value = Array.isArray(value) ? value.join('\n') : '';
      else input.value = value === null || value === undefined ? '' : String(value);
    }
  }

  /** The form's values; a field that is not a number gets its message here, before anything is sent. */
  function read() {
    const values = new Map();
    let firstBad = null;
    for (const [path, { input, def }] of controls) {
      const raw = input.value.trim();
      if (def.kind === 'list') {
        values.set(path, raw.split(/[\n,]+/).map((x) => x.trim()).filter(Boolean));
      } else if (def.kind === 'text') {
        values.set(path, raw);
      } else {
        const number = Number(raw);
        if (raw === '' || !isFinite(number) || (def.kind === 'int' && !Number.isInteger(number))) {
          showFieldError(path, def.kind === 'int' ? 'Enter a whole number.' : 'Enter a number.');
          firstBad = firstBad || input;
        } else {
          values.set(path, number);
        }
      }
    }
    return { values, firstBad };
  }

  function changes(values) {
    const body = {};
    let count = 0;
    for (const [path, value] of values) {
      const before = getPath(loaded, path);
      const same = Array.isArray(value) ? JSON.stringify(value) === JSON.stringify(Array.isArray(before) ? before : [])
        : value === (before === null || before === undefined ? (typeof value === 'string' ? '' : before) : before);
      if (!same) {
        setPath(body, path, value);
        count++;
      }
    }
    return { body, count };
  }

  /** The control a 400's "field" is about: exact, or the nearest parent ("signaling.turnUrls[1]" -> turnUrls). */
  function controlFor(field) {
    if (!field) return null;
    const plain = field.replace(/\[\d+\]/g, '');
    let path = plain;
    while (path) {
      if (controls.has(path)) return path;
      const dot = path.lastIndexOf('.');
      path = dot < 0 ? '' : path.slice(0, dot);
    }
    return null;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    saved.textContent = '';
    const { values, firstBad } = read();
    if (firstBad) {
      firstBad.focus();
      return;
    }
    const { body, count } = changes(values);
    if (count === 0) {
      saved.textContent = 'Nothing changed.';
      return;
    }
    saveButton.disabled = true;
    try {
      const result = await api.saveSettings(body);
      if (destroyed) return;
      loaded = result && typeof result === 'object' ? result : loaded;
      fill(loaded);
      saved.textContent = 'Saved. ' + (count === 1 ? 'The change applies now.' : 'The changes apply now.');
      toast('Settings saved.');
    } catch (error) {
      if (destroyed || error.status === 401) return;
      const path = controlFor(error.field);
      if (error.status === 400 && path) {
        showFieldError(path, error.message);
        controls.get(path).input.focus();
      } else {
        formError.textContent = error.message;
        formError.hidden = false;
      }
    } finally {
      saveButton.disabled = false;
    }
  });

  async function load() {
    clear(status).append(loadingState('Loading settings…'));
    try {
      const settings = await api.settings();
      if (destroyed) return;
      loaded = settings || {};
      clear(status);
      fill(loaded);
      form.hidden = false;
    } catch (error) {
      if (destroyed || error.status === 401) return;
      clear(status).append(errorState(error.status === 404
        ? { message: 'This node does not offer its settings here yet (it is being updated). Try again in a minute.' }
        : error, load));
    }
  }

  load();
  return () => {
    destroyed = true;
    shell.cleanups.forEach((fn) => fn());
  };
}
