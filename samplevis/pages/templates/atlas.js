{#- A layer's thumbnails are made when its section comes near the window (so a page of tens of
    thousands of channels opens at once), each image loading lazily. The detail view shows the
    channel named by the page's #fragment ('layer/channel') large, with its other files and its
    atlas.json entry; an empty or other fragment (a layer's link) hides it. #}
const THUMBNAIL = {{ thumbnail_px }}, GAP = 6, LABEL = 18;
const entries = JSON.parse(document.getElementById('atlas-data').textContent);
const byKey = new Map(entries.map(e => [e.layer + '/' + e.channel, e]));
const byLayer = new Map();
for (const e of entries) {
  if (!byLayer.has(e.layer)) byLayer.set(e.layer, []);
  byLayer.get(e.layer).push(e);
}
const url = file => file.split('/').map(encodeURIComponent).join('/');
function thumbnail(e) {
  const link = document.createElement('a');
  link.className = 'ch';
  link.href = url(e.files[0]);
  link.dataset.key = e.layer + '/' + e.channel;
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.decoding = 'async';
  img.width = img.height = THUMBNAIL;
  img.alt = e.layer + ' channel ' + e.channel;
  img.src = url(e.files[0]);
  const label = document.createElement('span');
  const share = e.processed_like_photos, blur = e.blur_kept;
  label.textContent = e.channel + (typeof share === 'number' ? ' · ' + share.toFixed(2) : '')
    + (typeof blur === 'number' ? ' · b ' + blur.toFixed(2) : '');
  const said = [];
  if (typeof share === 'number') said.push('processed like its top photos ' + e.processed_like_photos_at);
  if (typeof blur === 'number') {
    const theirs = e.photos_blur_kept;
    said.push('keeps ' + blur.toFixed(2) + ' of its value under a 1 px blur'
      + (typeof theirs === 'number' ? '; its top photos keep ' + theirs.toFixed(2) : ''));
  }
  if (said.length) label.title = said.join('; ');
  link.append(img, label);
  return link;
}
// With each channel's check (atlas --images), a layer's channels can be sorted by it: those
// whose images are processed least like their top photos first.
const sorter = document.getElementById('sort-processing');
function ordered(layer) {
  const found = byLayer.get(layer);
  if (!sorter || !sorter.checked) return found;
  const share = e => (typeof e.processed_like_photos === 'number' ? e.processed_like_photos : 2);
  return [...found].sort((a, b) => share(a) - share(b) || a.channel - b.channel);
}
const near = new IntersectionObserver(seen => {
  for (const item of seen) {
    if (!item.isIntersecting) continue;
    near.unobserve(item.target);
    item.target.replaceChildren(...ordered(item.target.dataset.layer).map(thumbnail));
    item.target.style.minHeight = '';
    item.target.dataset.made = '1';
  }
}, {rootMargin: '1500px'});
if (sorter) {
  sorter.parentElement.hidden = !entries.some(e => typeof e.processed_like_photos === 'number');
  sorter.onchange = () => {
    for (const grid of document.querySelectorAll('.grid[data-made]')) {
      grid.replaceChildren(...ordered(grid.dataset.layer).map(thumbnail));
    }
  };
}
for (const grid of document.querySelectorAll('.grid')) {
  const perRow = Math.max(1, Math.floor((grid.clientWidth + GAP) / (THUMBNAIL + GAP)));
  const rows = Math.ceil(byLayer.get(grid.dataset.layer).length / perRow);
  grid.style.minHeight = rows * (THUMBNAIL + LABEL + GAP) - GAP + 'px';
  near.observe(grid);
}
const detail = document.getElementById('detail');
function cell(row, text) { row.insertCell().textContent = text; }
function show() {
  const e = byKey.get(decodeURIComponent(location.hash.slice(1)));
  if (!e) { detail.hidden = true; return; }
  document.getElementById('detail-title').textContent = e.layer + ', channel ' + e.channel;
  const figures = document.getElementById('detail-figures');
  figures.replaceChildren();
  e.files.forEach((file, i) => {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = url(file);
    img.alt = file;
    if (i === 0) img.className = 'large';
    const caption = document.createElement('figcaption');
    caption.textContent = file;
    figure.append(img, caption);
    figures.append(figure);
  });
  const table = document.getElementById('detail-info');
  table.replaceChildren();
  for (const [key, value] of Object.entries(e)) {
    if (key === 'files') continue;
    const row = table.insertRow();
    cell(row, key);
    cell(row, Array.isArray(value) ? value.join(key === 'notes' ? ' | ' : ', ') : String(value));
  }
  detail.hidden = false;
}
document.addEventListener('click', event => {
  const link = event.target.closest('a.ch');
  if (!link) return;
  event.preventDefault();
  location.hash = encodeURIComponent(link.dataset.key);
});
document.getElementById('detail-close').onclick = () => { location.hash = ''; };
document.addEventListener('keydown', event => {
  if (event.key === 'Escape' && !detail.hidden) location.hash = '';
});
window.addEventListener('hashchange', show);
show();
