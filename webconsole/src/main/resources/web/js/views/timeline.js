// Every photo by capture date, under month and day headings.
import { api } from '../api.js';
import { h, icon } from '../dom.js';
import { PhotoFeed } from '../photofeed.js';
import { emptyState } from '../ui.js';
import { openViewer } from '../viewer.js';

export function renderTimeline(root, params, app) {
  document.title = 'Timeline · Sover';
  const feed = new PhotoFeed({
    testid: 'timeline',
    groupByDay: true,
    fetchPage: (cursor, limit) => api.timeline(cursor, limit),
    onOpen: (index) => openViewer({ feed, index }),
    empty: () => emptyState({
      iconName: 'timeline', testid: 'timeline-empty', title: 'No photos yet',
      text: 'Photos from all albums show up here by the day they were taken. Start by adding some to an album.',
      action: h('a', { class: 'btn btn-primary', href: '#/albums', 'data-testid': 'timeline-empty-albums' },
        icon('albums'), 'Go to albums'),
    }),
  });
  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', { class: 'page-head-text' },
        h('h1', { class: 'page-title', text: 'Timeline' }),
        h('p', { class: 'page-subtitle', text: 'All your photos, newest first, by the day they were taken.' }))),
    feed.element));
  feed.start();
  return () => feed.destroy();
}
