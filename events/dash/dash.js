// SPDX-License-Identifier: MIT
// relaykit live dashboard: reads the /events Server-Sent Events feed of
// relaykit-eventd and draws the tables and the chart.
//
// Bounded by design, so a page left open for days at hundreds of events
// per second neither freezes nor grows: at most KEEP events are kept,
// at most ROWS rows exist, and the page redraws at most every RENDER_MS
// (events only mark it dirty).  Text from events is only ever set as
// textContent, never parsed as HTML.  Filters apply at once to what is
// kept, and are sent to the server (which then filters before it
// samples) when the typing stops.
'use strict';

(function () {
  const KEEP = 1000;
  const ROWS = 200;
  const RENDER_MS = 250;
  const REFILTER_MS = 400;
  const TYPES = ['queued', 'delivered', 'deferred', 'bounced', 'expired',
    'bounce_received', 'complaint'];

  const state = {
    events: [],         // oldest first, at most KEEP (+ slack)
    ids: new Set(),     // of state.events, to drop repeats on reconnect
    received: 0,        // events received since the page opened
    filters: { from: '', domain: '', event: '' },
    stats: null,
    hello: null,
    paused: false,
    dirty: true,
    statsDirty: false,
    connected: false,
    source: null,
  };
  // read-only view for people (and tests) in the browser's console
  window.rkDash = {
    received: () => state.received,
    kept: () => state.events.length,
    stats: () => state.stats,
    connected: () => state.connected,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function lc(s) { return (s || '').toLowerCase(); }

  function matches(e) {
    const f = state.filters;
    if (f.event && !f.event.split(',').includes(e.event)) return false;
    if (f.from && !lc(e.from).includes(lc(f.from))) return false;
    if (f.domain && !lc(e.domain).includes(lc(f.domain))) return false;
    return true;
  }

  function add(e) {
    if (!e || !e.id || state.ids.has(e.id)) return;
    state.events.push(e);
    state.ids.add(e.id);
    state.received++;
    state.dirty = true;
  }

  function trim() {
    if (state.events.length <= KEEP) return;
    const gone = state.events.splice(0, state.events.length - KEEP);
    for (const e of gone) state.ids.delete(e.id);
  }

  // ------------------------------------------------------------- feed

  function query() {
    const q = new URLSearchParams();
    for (const k of ['from', 'domain', 'event'])
      if (state.filters[k]) q.set(k, state.filters[k]);
    const s = q.toString();
    return '/events' + (s ? '?' + s : '');
  }

  function setConn(up) {
    state.connected = up;
    const c = $('conn');
    c.className = 'conn ' + (up ? 'up' : 'down');
    c.textContent = up ? 'live' : 'reconnecting';
  }

  function connect() {
    if (state.source) state.source.close();
    const es = new EventSource(query());
    es.addEventListener('hello', (m) => {
      state.hello = JSON.parse(m.data);
      setConn(true);
      const notes = [];
      if (state.hello.masked) notes.push('addresses masked');
      if (state.hello.sampling)
        notes.push('sampled above ' + state.hello.rate + ' events/s');
      $('note').textContent = notes.join(' · ');
    });
    es.addEventListener('events', (m) => {
      for (const e of JSON.parse(m.data)) add(e);
      trim();
    });
    es.addEventListener('stats', (m) => {
      state.stats = JSON.parse(m.data);
      state.statsDirty = true;
    });
    es.onerror = () => setConn(false);
    state.source = es;
  }

  // ------------------------------------------------------------ drawing

  function time(ms) {
    const d = new Date(ms);
    const p = (n, w) => String(n).padStart(w, '0');
    return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' +
      p(d.getSeconds(), 2) + '.' + p(d.getMilliseconds(), 3);
  }

  // the adaptive delay: "850 ms", "12.5 s", "3 min 20 s"
  function duration(ms) {
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (Math.round(ms / 100) / 10) + ' s';
    const s = Math.round(ms / 1000);
    return Math.floor(s / 60) + ' min' + (s % 60 ? ' ' + (s % 60) + ' s' : '');
  }

  function row(e) {
    const tr = el('tr', 'ev-' + e.event);
    tr.dataset.id = e.id;
    tr.dataset.qid = e.queue_id || '';
    tr.dataset.event = e.event;
    tr.append(el('td', null, time(e.ts)));
    const st = el('td');
    st.append(el('span', 'badge', e.event));
    tr.append(st);
    tr.append(el('td', null, e.queue_id || ''));
    tr.append(el('td', null, e.client_id || ''));
    tr.append(el('td', null, e.from === '' ? '<>' : e.from));
    tr.append(el('td', null, e.to || (e.domain ? '@' + e.domain : '')));
    tr.append(el('td', null, e.dsn || ''));
    const r = el('td', null, e.response || '');
    if (e.response) r.title = e.response;
    tr.append(r);
    return tr;
  }

  function drawEvents() {
    const frag = document.createDocumentFragment();
    let n = 0;
    for (let i = state.events.length - 1; i >= 0 && n < ROWS; i--) {
      if (!matches(state.events[i])) continue;
      frag.append(row(state.events[i]));
      n++;
    }
    $('ev-body').replaceChildren(frag);
    $('shown').textContent = n + ' shown of ' + state.events.length +
      ' kept';
  }

  function sum(arr, from) {
    let s = 0;
    for (let i = Math.max(0, from); i < arr.length; i++) s += arr[i];
    return s;
  }

  function drawTiles(rates, perMinute) {
    const frag = document.createDocumentFragment();
    for (const t of TYPES) {
      const a = rates[t] || [];
      const tile = el('div', 'tile ev-' + t);
      tile.dataset.event = t;
      tile.append(el('b', null, sum(a, a.length - perMinute)));
      tile.append(el('span', null, t.replace('_', ' ') + ' /min · ' +
        sum(a, 0) + ' /15 min'));
      frag.append(tile);
    }
    $('tiles').replaceChildren(frag);
  }

  function drawChart(rates) {
    const svg = $('chart');
    const ns = 'http://www.w3.org/2000/svg';
    let max = 1;
    for (const t of TYPES) for (const v of rates[t] || []) max = Math.max(max, v);
    const frag = document.createDocumentFragment();
    for (const t of TYPES) {
      const a = rates[t] || [];
      if (!a.some((v) => v > 0)) continue;
      const step = a.length > 1 ? 900 / (a.length - 1) : 0;
      const pts = a.map((v, i) => (i * step).toFixed(1) + ',' +
        (155 - (v / max) * 150).toFixed(1));
      const line = document.createElementNS(ns, 'polyline');
      line.setAttribute('class', 'ev-' + t);
      line.setAttribute('points', pts.join(' '));
      frag.append(line);
    }
    svg.replaceChildren(frag);
    const legend = document.createDocumentFragment();
    legend.append(el('span', 'legend-max', 'top of the chart: ' + max +
      ' per 10 s · 15 min ago at the left'));
    for (const t of TYPES)
      if ((rates[t] || []).some((v) => v > 0))
        legend.append(el('span', 'legend ev-' + t, t.replace('_', ' ')));
    $('legend').replaceChildren(legend);
  }

  function drawTop(top) {
    const frag = document.createDocumentFragment();
    for (const d of top) {
      const tr = el('tr');
      tr.dataset.domain = d.domain;
      tr.append(el('td', null, d.domain));
      tr.append(el('td', null, d.deferred));
      tr.append(el('td', null, d.bounced));
      tr.append(el('td', 'delay', d.delay === null ? '—' : duration(d.delay)));
      tr.append(el('td', null, d.dsn));
      const r = el('td', null, d.response);
      r.title = d.response;
      tr.append(r);
      tr.append(el('td', null, d.last ? time(d.last) : ''));
      frag.append(tr);
    }
    $('top-body').replaceChildren(frag);
  }

  function drawStats() {
    const s = state.stats;
    if (!s) return;
    const agg = s.agg;
    drawTiles(agg.rates, Math.round(60000 / agg.width));
    drawChart(agg.rates);
    drawTop(agg.top);
    const parts = ['read ' + agg.seen, 'received ' + state.received,
      'sampled ' + s.sampled];
    if (s.skipped) parts.push('skipped ' + s.skipped);
    if (s.lost) parts.push('lost ' + s.lost);
    if (!s.up) parts.push('Redis not answering');
    $('counters').textContent = parts.join(' · ');
  }

  function render() {
    if (state.paused) return;
    if (state.dirty) {
      state.dirty = false;
      drawEvents();
    }
    if (state.statsDirty) {
      state.statsDirty = false;
      drawStats();
    }
  }

  // ----------------------------------------------------------- controls

  let refilter = null;
  function onFilter() {
    state.filters.from = $('f-from').value.trim();
    state.filters.domain = $('f-domain').value.trim();
    state.filters.event = $('f-event').value;
    state.dirty = true;
    render();
    clearTimeout(refilter);
    refilter = setTimeout(connect, REFILTER_MS);
  }

  function start() {
    for (const id of ['f-from', 'f-domain'])
      $(id).addEventListener('input', onFilter);
    $('f-event').addEventListener('change', onFilter);
    $('pause').addEventListener('click', () => {
      state.paused = !state.paused;
      $('pause').textContent = state.paused ? 'Resume' : 'Pause';
      state.dirty = state.statsDirty = true;
      render();
    });
    setInterval(render, RENDER_MS);
    connect();
  }

  start();
})();
