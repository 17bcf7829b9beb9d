// Formatting of sizes, dates and file types for people.

export function plural(count, one, many) {
  return count.toLocaleString() + ' ' + (count === 1 ? one : many);
}

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return bytes + ' B';
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return (value >= 100 ? Math.round(value) : value.toFixed(1)) + ' ' + units[unit];
}

export function parseDate(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !isNaN(date) ? date : null;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined,
  { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(iso) {
  const date = parseDate(iso);
  return date ? dateTimeFormat.format(date) : 'Unknown date';
}

export function formatShortDate(iso) {
  const date = parseDate(iso);
  return date ? shortDateFormat.format(date) : '';
}

export function formatDay(date) {
  return (date.getFullYear() === new Date().getFullYear() ? dayFormat : dayWithYearFormat).format(date);
}

export function formatMonth(date) {
  return monthFormat.format(date);
}

/** Local calendar keys, so photos group by the day the viewer's clock says they were taken. */
export function dayKey(date) {
  return date.getFullYear() + '-' + (date.getMonth() + 1) + '-' + date.getDate();
}

export function monthKey(date) {
  return date.getFullYear() + '-' + (date.getMonth() + 1);
}

export function isVideo(photo) {
  return typeof photo.contentType === 'string' && photo.contentType.startsWith('video/');
}

// What an <img> in current browsers can show; HEIC/HEIF and RAW formats cannot.
const BROWSER_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif',
  'image/bmp', 'image/svg+xml', 'image/x-icon', 'image/vnd.microsoft.icon']);

export function isBrowserImage(photo) {
  return BROWSER_IMAGES.has(String(photo.contentType || '').toLowerCase());
}

/** A short label such as "HEIC" or "MP4" for placeholder tiles. */
export function fileTypeLabel(photo) {
  const name = String(photo.filename || '');
  const dot = name.lastIndexOf('.');
  if (dot > 0 && dot < name.length - 1 && name.length - dot <= 6) return name.slice(dot + 1).toUpperCase();
  const subtype = String(photo.contentType || '').split('/')[1] || 'file';
  return subtype.replace(/^x-/, '').split(/[+;.]/)[0].toUpperCase().slice(0, 6);
}

export function formatDimensions(photo) {
  return photo.width && photo.height ? photo.width + ' × ' + photo.height : '';
}

const TYPES_BY_EXTENSION = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', avif: 'image/avif', tif: 'image/tiff', tiff: 'image/tiff',
  dng: 'image/x-adobe-dng', mp4: 'video/mp4', m4v: 'video/x-m4v', mov: 'video/quicktime',
  webm: 'video/webm', '3gp': 'video/3gpp', avi: 'video/x-msvideo', mkv: 'video/x-matroska',
};

/** The upload Content-Type: the browser's idea, else a guess from the extension (browsers often leave HEIC untyped). */
export function contentTypeFor(file) {
  if (file.type) return file.type;
  const name = file.name || '';
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return TYPES_BY_EXTENSION[ext] || 'application/octet-stream';
}

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const timeWithSecondsFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const relativeFormat = typeof Intl.RelativeTimeFormat === 'function'
  ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

/** "14:02" today, "21 Nov 2026, 14:02" on another day; '' without a time. */
export function formatWhen(iso) {
  const date = parseDate(iso);
  if (!date) return '';
  const sameDay = dayKey(date) === dayKey(new Date());
  return sameDay ? timeFormat.format(date) : shortDateFormat.format(date) + ', ' + timeFormat.format(date);
}

/** 14:02:31, for log lines. */
export function formatClock(iso) {
  const date = parseDate(iso);
  return date ? timeWithSecondsFormat.format(date) : '';
}

/** "in 5 minutes", "2 hours ago", "now"; '' without a time. */
export function formatRelative(iso, now = Date.now()) {
  const date = parseDate(iso);
  if (!date) return '';
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 10) return 'now';
  const [value, unit] = abs < 60 ? [seconds, 'second'] : abs < 3600 ? [Math.round(seconds / 60), 'minute']
    : abs < 86400 ? [Math.round(seconds / 3600), 'hour'] : [Math.round(seconds / 86400), 'day'];
  if (relativeFormat) return relativeFormat.format(value, unit);
  return value < 0 ? -value + ' ' + unit + 's ago' : 'in ' + value + ' ' + unit + 's';
}

/** "1.2 MB/s"; "0 B/s" when idle. */
export function formatRate(bytesPerSecond) {
  if (typeof bytesPerSecond !== 'number' || !isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '0 B/s';
  return formatBytes(Math.round(bytesPerSecond)) + '/s';
}

/** "42 ms", "1.3 s"; '' when unknown. */
export function formatMillis(ms) {
  if (typeof ms !== 'number' || !isFinite(ms) || ms < 0) return '';
  return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

/** A node id shortened for tables ("MFRGGZD…"); the full id goes in a title. */
export function shortId(id) {
  const text = String(id || '');
  return text.length > 12 ? text.slice(0, 8) + '…' : text;
}
