// The auditor's timeline (SPEC §12): one account's ledger from GET /v1/accounts/:id/audit, drawn on
// a time axis. Static and self-contained: the only request is that one, to this page's own origin.
// Sessions and intervals are DOM elements (test hooks data-session-id, data-credited,
// data-adjustment-id). A render touches only what is in view: each session is clipped to the view,
// and of its intervals only those in view are shown and placed, and only while they are wider than
// a few pixels (denser than that, the session's colour stands for them). So zoom and pan cost
// O(pixels), not O(50,000 intervals). Heartbeats go on a canvas, binned per pixel column.

const MIN_SPAN_MS = 5_000;
const $ = (id) => document.getElementById(id);
const state = { ledger: null, origin: 0, end: 1, viewStart: 0, viewEnd: 1, beats: new Float64Array(0), sessions: [], frame: 0 };

const ms = (iso) => Date.parse(iso);
const iso = (t) => new Date(t).toISOString();

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function duration(d) {
  if (d < 1000) return `${Math.round(d)} ms`;
  if (d < 60_000) return `${(d / 1000).toFixed(d < 10_000 ? 1 : 0)} s`;
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min ${Math.round((d % 60_000) / 1000)} s`;
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)} h ${Math.round((d % 3_600_000) / 60_000)} min`;
  return `${Math.floor(d / 86_400_000)} d ${Math.round((d % 86_400_000) / 3_600_000)} h`;
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function load(accountId, token, at) {
  setStatus(`Loading ${accountId}…`);
  const query = at ? `?at=${encodeURIComponent(at)}` : '';
  let response;
  try {
    response = await fetch(`/v1/accounts/${encodeURIComponent(accountId)}/audit${query}`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch (error) {
    setStatus(`The server did not answer: ${error.message}`, true);
    return;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    setStatus(`${response.status} ${body?.code ?? ''}: ${body?.message ?? response.statusText}`, true);
    return;
  }
  show(body);
  setStatus(`${accountId}: ${body.sessions.length} session(s), ${body.events} events${body.asOf ? `, as of ${body.asOf.at}` : ''}.`);
}

function show(ledger) {
  state.ledger = ledger;
  const sessions = ledger.sessions;
  const adjustments = Array.isArray(ledger.adjustments) ? ledger.adjustments : [];
  const starts = sessions.map((s) => ms(s.startedAt)).concat(adjustments.map((a) => ms(a.at)));
  const ends = sessions.map(sessionEnd).concat(adjustments.map((a) => ms(a.at)));
  state.origin = starts.length ? Math.min(...starts) : Date.now();
  state.end = ends.length ? Math.max(...ends) : state.origin + 60_000;
  renderSummary(ledger, adjustments);
  buildSessions(sessions);
  buildAdjustments(adjustments);
  $('view').hidden = false;
  showAll();
}

function sessionEnd(session) {
  if (session.stoppedAt) return ms(session.stoppedAt);
  const last = session.intervals[session.intervals.length - 1];
  return last ? ms(last.to) : ms(session.startedAt);
}

function renderSummary(ledger, adjustments) {
  const summary = $('summary');
  summary.replaceChildren();
  const add = (label, value, bad = false) => {
    const item = el('span', {}, `${label}: `);
    item.append(el('strong', bad ? { class: 'bad' } : {}, value));
    summary.append(item);
  };
  add('Account', ledger.accountId);
  add('Replayed balance', `${ledger.replayedBalanceUnits} units`);
  add('Projected balance', `${ledger.projectedBalanceUnits} units`);
  add('Replay vs projection', ledger.asOf ? 'not compared (historical)' : ledger.matches ? 'match' : `DIFFER: ${ledger.differences.join('; ')}`, !ledger.matches);
  const chain = ledger.chain;
  if (chain) {
    const text = chain.broken ? `BROKEN at ${chain.broken.stream}@${chain.broken.revision}: ${chain.broken.what}`
      : `intact (${chain.chained} chained${chain.unchained ? `, ${chain.unchained} unchained` : ''})`;
    add('Hash chain', text, Boolean(chain.broken));
  }
  if (ledger.asOf) add('As of', `${ledger.asOf.at} (position ${ledger.asOf.position})`);
  add('Adjustments', String(adjustments.length));
}

function buildSessions(sessions) {
  const lane = $('lane-sessions');
  lane.replaceChildren();
  const beats = [];
  state.sessions = [];
  for (const session of sessions) {
    const start = ms(session.startedAt);
    const end = sessionEnd(session);
    const bar = el('div', { class: `session${session.stoppedAt ? '' : ' open'}`, 'data-session-id': session.sessionId, 'data-reason': session.reason ?? 'open' });
    bar.title = `session ${session.sessionId}\n${session.startedAt} → ${session.stoppedAt ?? 'still open'}\ncredited ${duration(session.creditedMs)}, earned ${session.earnedUnits} units`;
    const count = session.intervals.length;
    const from = new Float64Array(count);
    const to = new Float64Array(count);
    const credited = [];
    const uncredited = [];
    const fragment = document.createDocumentFragment();
    session.intervals.forEach((interval, i) => {
      from[i] = ms(interval.from);
      to[i] = ms(interval.to);
      const node = el('div', { class: 'interval', 'data-credited': String(interval.credited) });
      node.hidden = true;
      node.dataset.index = String(i);
      fragment.append(node);
      (interval.credited ? credited : uncredited).push(node);
      // Presence points after the start are heartbeats, except a stop's own point (user stop or deadline).
      if (!(session.stoppedAt && i === count - 1)) beats.push(to[i]);
    });
    bar.append(fragment);
    let stop = null;
    if (session.stoppedAt) {
      const lag = session.stopRecordedAt ? ms(session.stopRecordedAt) - ms(session.stoppedAt) : null;
      const label = `${session.reason}${lag === null ? '' : ` · lag ${duration(lag)}`}`;
      stop = el('div', { class: 'stop', 'data-stop-reason': session.reason, ...(lag === null ? {} : { 'data-lag-ms': String(lag) }) }, label);
      stop.title = `stopped ${session.stoppedAt} (${session.reason})${session.stopRecordedAt ? `, recorded ${session.stopRecordedAt}` : ''}`;
    }
    bar.addEventListener('click', (event) => explain(session, event));
    lane.append(bar);
    if (stop) lane.append(stop);
    const nodes = bar.querySelectorAll('.interval');
    state.sessions.push({ bar, stop, start, end, from, to, nodes, uncredited: uncredited.map((n) => Number(n.dataset.index)), shown: [0, 0], shownUncredited: new Set() });
  }
  state.beats = Float64Array.from(beats).sort();
}

/** Places a session for the view: clipped bar, the intervals in view (or none when too dense), its stop. */
function placeSession(s, k, width) {
  const x0 = (s.start - state.viewStart) * k;
  const x1 = (s.end - state.viewStart) * k;
  const inView = x1 >= -2 && x0 <= width + 2;
  s.bar.hidden = !inView;
  if (s.stop) {
    s.stop.hidden = !(x1 >= -2 && x1 <= width + 2);
    if (!s.stop.hidden) s.stop.style.left = `${x1}px`;
  }
  const left = Math.max(x0, -10);
  let lo = 0;
  let hi = 0;
  if (inView) {
    s.bar.style.left = `${left}px`;
    s.bar.style.width = `${Math.max(2, Math.min(x1, width + 10) - left)}px`;
    lo = lowerBound(s.to, state.viewStart);
    hi = lowerBound(s.from, state.viewEnd);
    // Denser than 3 px per interval: the bar's colour stands for the credited ones.
    if (hi - lo > width / 3) hi = lo;
  }
  s.bar.classList.toggle('sparse', inView && hi > lo);
  const place = (i) => {
    const node = s.nodes[i];
    node.hidden = false;
    node.style.left = `${(s.from[i] - state.viewStart) * k - left}px`;
    node.style.width = `${Math.max(1, (s.to[i] - s.from[i]) * k)}px`;
  };
  const [oldLo, oldHi] = s.shown;
  for (let i = oldLo; i < oldHi; i++) if (i < lo || i >= hi) s.nodes[i].hidden = true;
  for (let i = lo; i < hi; i++) place(i);
  s.shown = [lo, hi];
  // Uncredited intervals are few (a timeout's last one): each in view is always shown.
  for (const i of s.uncredited) {
    const visible = inView && s.to[i] >= state.viewStart && s.from[i] <= state.viewEnd;
    if (visible) place(i);
    else s.nodes[i].hidden = true;
  }
}

function buildAdjustments(adjustments) {
  const lane = $('lane-adjustments');
  lane.replaceChildren();
  for (const a of adjustments) {
    const units = String(a.amountUnits ?? a.amount ?? '');
    const marker = el('div', { class: `adjustment${units.startsWith('-') ? ' negative' : ''}`, 'data-adjustment-id': a.adjustmentId });
    marker.dataset.at = String(ms(a.at));
    marker.title = `adjustment ${a.adjustmentId} at ${a.at}: ${a.amount ?? units} (${a.reason ?? ''})${a.note ? ` — ${a.note}` : ''}${a.reference ? ` [${a.reference}]` : ''}${a.actor ? ` by ${a.actor.kind ?? ''} ${a.actor.id ?? ''}` : ''}`;
    lane.append(marker);
  }
}

function explain(session, event) {
  const details = $('details');
  const target = event.target.closest('.interval');
  const rows = target ? [session.intervals[Number(target.dataset.index)]] : session.intervals.slice(0, 50);
  const table = el('table');
  table.append(el('tr', {}, ''));
  table.firstChild.append(el('th', {}, 'from'), el('th', {}, 'to'), el('th', {}, 'length'), el('th', {}, 'credited'), el('th', {}, 'why'));
  for (const i of rows) {
    const tr = el('tr');
    tr.append(el('td', {}, i.from), el('td', {}, i.to), el('td', {}, duration(i.ms)), el('td', {}, i.credited ? duration(i.creditedMs) : '–'), el('td', {}, i.why));
    table.append(tr);
  }
  details.replaceChildren(el('h2', {}, `Session ${session.sessionId}`), table);
  if (!target && session.intervals.length > rows.length) details.append(el('p', {}, `… ${session.intervals.length - rows.length} more; click an interval for its own line.`));
}

// ---- view: zoom and pan -------------------------------------------------------------------

function showAll() {
  const pad = Math.max((state.end - state.origin) * 0.02, 1000);
  setView(state.origin - pad, state.end + pad);
}

function setView(start, end) {
  let span = Math.max(end - start, MIN_SPAN_MS);
  const full = (state.end - state.origin) * 1.5 + 2 * MIN_SPAN_MS;
  span = Math.min(span, Math.max(full, MIN_SPAN_MS));
  const center = (start + end) / 2;
  state.viewStart = center - span / 2;
  state.viewEnd = center + span / 2;
  schedule();
}

function zoom(factor, anchorFraction = 0.5) {
  const span = state.viewEnd - state.viewStart;
  const anchor = state.viewStart + span * anchorFraction;
  const next = span * factor;
  setView(anchor - next * anchorFraction, anchor + next * (1 - anchorFraction));
}

function pan(fraction) {
  const shift = (state.viewEnd - state.viewStart) * fraction;
  setView(state.viewStart + shift, state.viewEnd + shift);
}

function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(render);
}

function render() {
  state.frame = 0;
  const timeline = $('timeline');
  const width = timeline.clientWidth || 1;
  const k = width / (state.viewEnd - state.viewStart);
  for (const session of state.sessions) placeSession(session, k, width);
  for (const marker of $('lane-adjustments').children) {
    const x = (Number(marker.dataset.at) - state.viewStart) * k;
    marker.hidden = x < -10 || x > width + 10;
    marker.style.left = `${x}px`;
  }
  timeline.dataset.viewStart = String(state.viewStart);
  timeline.dataset.viewEnd = String(state.viewEnd);
  $('range').textContent = `${iso(state.viewStart)} – ${iso(state.viewEnd)} (${duration(state.viewEnd - state.viewStart)})`;
  drawAxis(width, k);
  drawBeats(width);
}

const STEPS = [1e3, 2e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 18e5, 36e5, 108e5, 216e5, 432e5, 864e5, 6048e5, 2592e6, 31536e6];

function drawAxis(width, k) {
  const axis = $('axis');
  const step = STEPS.find((s) => s * k >= 90) ?? STEPS[STEPS.length - 1];
  const first = Math.ceil(state.viewStart / step) * step;
  const ticks = [];
  for (let t = first; t <= state.viewEnd && ticks.length < 60; t += step) {
    const text = step < 6e4 ? iso(t).slice(11, 19) : step < 864e5 ? iso(t).slice(5, 16).replace('T', ' ') : iso(t).slice(0, 10);
    const tick = el('div', { class: 'tick' }, text);
    tick.style.left = `${(t - state.viewStart) * k}px`;
    ticks.push(tick);
  }
  axis.replaceChildren(...ticks);
}

/** First index whose time is >= t. */
function lowerBound(values, t) {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function drawBeats(width) {
  const canvas = $('beats');
  const ratio = window.devicePixelRatio || 1;
  const height = canvas.clientHeight || 24;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d');
  context.scale(ratio, ratio);
  context.clearRect(0, 0, width, height);
  const beats = state.beats;
  const span = state.viewEnd - state.viewStart;
  // One bin per pixel column: the count of heartbeats in it (two binary searches per column).
  const columns = Math.ceil(width);
  const counts = new Uint32Array(columns);
  let max = 0;
  let index = lowerBound(beats, state.viewStart);
  for (let x = 0; x < columns; x++) {
    const until = state.viewStart + ((x + 1) * span) / columns;
    const next = lowerBound(beats, until);
    counts[x] = next - index;
    if (counts[x] > max) max = counts[x];
    index = next;
  }
  context.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--beat').trim() || '#1c7ed6';
  let visible = 0;
  for (let x = 0; x < columns; x++) {
    if (counts[x] === 0) continue;
    visible += counts[x];
    // A single heartbeat is a full-height tick; denser columns are scaled logarithmically.
    const h = max <= 1 ? height : Math.max(3, (height * Math.log1p(counts[x])) / Math.log1p(max));
    context.fillRect(x, height - h, 1, h);
  }
  canvas.dataset.visibleHeartbeats = String(visible);
  canvas.dataset.maxPerPixel = String(max);
}

// ---- input --------------------------------------------------------------------------------

function wire() {
  $('open').addEventListener('submit', (event) => {
    event.preventDefault();
    const accountId = $('account').value.trim();
    const token = $('token').value.trim();
    const at = $('at').value.trim();
    const url = new URL(location.href);
    url.searchParams.set('account', accountId);
    if (at) url.searchParams.set('at', at);
    else url.searchParams.delete('at');
    // The token stays in the fragment, which browsers never send to a server.
    url.hash = `token=${encodeURIComponent(token)}`;
    history.replaceState(null, '', url);
    void load(accountId, token, at);
  });
  $('controls').addEventListener('click', (event) => {
    const action = event.target.closest('button')?.dataset.action;
    if (action === 'zoom-in') zoom(0.5);
    else if (action === 'zoom-out') zoom(2);
    else if (action === 'pan-left') pan(-0.25);
    else if (action === 'pan-right') pan(0.25);
    else if (action === 'all') showAll();
  });
  const timeline = $('timeline');
  timeline.addEventListener('wheel', (event) => {
    event.preventDefault();
    const box = timeline.getBoundingClientRect();
    zoom(Math.exp(event.deltaY * 0.002), (event.clientX - box.left) / box.width);
  }, { passive: false });
  let drag = null;
  timeline.addEventListener('pointerdown', (event) => {
    drag = { x: event.clientX, start: state.viewStart, end: state.viewEnd };
    timeline.setPointerCapture(event.pointerId);
    timeline.classList.add('dragging');
  });
  timeline.addEventListener('pointermove', (event) => {
    if (!drag) return;
    const shift = ((drag.x - event.clientX) / timeline.clientWidth) * (drag.end - drag.start);
    setView(drag.start + shift, drag.end + shift);
  });
  const endDrag = () => {
    drag = null;
    timeline.classList.remove('dragging');
  };
  timeline.addEventListener('pointerup', endDrag);
  timeline.addEventListener('pointercancel', endDrag);
  timeline.addEventListener('keydown', (event) => {
    const keys = { '+': () => zoom(0.5), '=': () => zoom(0.5), '-': () => zoom(2), ArrowLeft: () => pan(-0.1), ArrowRight: () => pan(0.1), 0: () => showAll() };
    const run = keys[event.key];
    if (run) {
      event.preventDefault();
      run();
    }
  });
  window.addEventListener('resize', schedule);
}

function start() {
  wire();
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const accountId = params.get('account');
  const token = fragment.get('token');
  const at = params.get('at') ?? '';
  if (accountId) $('account').value = accountId;
  if (token) $('token').value = token;
  $('at').value = at;
  if (accountId && token) void load(accountId, token, at);
}

// Exposed for tests and for the console: the current view, and a way to set it.
window.timeline = { get view() { return { start: state.viewStart, end: state.viewEnd }; }, setView, zoom, pan, showAll };
start();
