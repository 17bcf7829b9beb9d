// Small DOM helpers. Everything is built with createElement and text nodes, never innerHTML,
// so a photo or album name can never become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * h('button', {class: 'btn', 'data-testid': 'x', onclick: fn}, 'Label', child, ...)
 * Attributes: class, text, on<event> (listener), dataset-style 'data-*' and 'aria-*' strings,
 * boolean attributes (true sets, false/null skips), anything else as an attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Stroke icons on a 24x24 grid (drawn for Sover; round caps, 1.8 px stroke).
const ICONS = {
  albums: ['M4 7h16v12H4z', 'M7 4h10', 'M8 15l3-3 2.5 2.5L15 13l3 3'],
  timeline: ['M4 6h16v14H4z', 'M4 10h16', 'M8 3v5', 'M16 3v5'],
  plus: ['M12 5v14', 'M5 12h14'],
  upload: ['M12 16V4', 'M7 9l5-5 5 5', 'M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13', 'M10 11v6', 'M14 11v6'],
  pencil: ['M4 20h4L19 9l-4-4L4 16z', 'M13 7l4 4'],
  download: ['M12 4v12', 'M7 11l5 5 5-5', 'M4 20h16'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  left: ['M15 5l-7 7 7 7'],
  right: ['M9 5l7 7-7 7'],
  back: ['M19 12H5', 'M11 6l-6 6 6 6'],
  move: ['M3 7h6l2 2h10v10H3z', 'M12 14h6', 'M15 11l3 3-3 3'],
  video: ['M4 6h12v12H4z', 'M16 10l5-3v10l-5-3'],
  image: ['M4 5h16v14H4z', 'M4 16l5-5 4 4 3-3 4 4', 'M15 9h.01'],
  file: ['M6 3h8l4 4v14H6z', 'M14 3v4h4'],
  logout: ['M15 4h4v16h-4', 'M10 8l-4 4 4 4', 'M6 12h10'],
  check: ['M5 12l5 5 9-10'],
  alert: ['M12 8v5', 'M12 16.5h.01', 'M12 3l9.5 17h-19z'],
  retry: ['M4 12a8 8 0 1 0 2.5-5.8', 'M4 4v4.5h4.5'],
  chevronDown: ['M6 9l6 6 6-6'],
  chevronUp: ['M6 15l6-6 6 6'],
  clock: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M12 7v5l3 2'],
  shield: ['M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6z', 'M8.5 12l2.5 2.5 4.5-5'],
  play: ['M8 5v14l11-7z'],
};

export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon' + (name === 'more' ? ' icon-dots' : '') + (cls ? ' ' + cls : ''));
  for (const d of ICONS[name] || ICONS.file) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
