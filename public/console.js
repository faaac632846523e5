/*
 * mcp-warden operator console: fills the "Operator console" section of the home page with live
 * figures from GET /api/status.
 *
 * - The key is typed into a password field and kept in sessionStorage only (this tab, until it
 *   closes or "Forget key" is pressed). It is sent only in the Authorization header of
 *   same-origin fetches: never in a URL, a cookie, localStorage or the page's text.
 * - A 401 forgets the key and says so; so does a 403 insufficient_scope (a key that is not an
 *   operator key). A 429 or other 403 backs off (Retry-After when given); network errors retry
 *   with exponential backoff. Polling pauses while the tab is hidden.
 * - Every server-provided string is written with textContent (event fields can carry
 *   attacker-chosen text); charts are SVG built with createElementNS.
 * - The page CSP allows no inline script or style, so this file is the only code and classes
 *   in warden.css the only styling. Plain browser JavaScript, no build step, no libraries.
 */
(function () {
  'use strict';

  const STORAGE_KEY = 'mcp-warden.console.key';
  const STATUS_URL = '/api/status';
  const DEFAULT_REFRESH_MS = 3000;
  const MAX_BACKOFF_MS = 5 * 60 * 1000;
  const FETCH_TIMEOUT_MS = 10000;
  /** Points kept per chart: two and a half minutes at the default interval. */
  const HISTORY = 50;
  /** Longest server string shown in a cell; the rest is cut so one field cannot flood the page. */
  const MAX_TEXT = 200;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const root = document.getElementById('console');
  if (root === null) return;

  /** @param {string} id */
  function byId(id) {
    const element = document.getElementById(id);
    if (element === null) throw new Error('console markup is missing #' + id);
    return element;
  }

  const ui = {
    login: /** @type {HTMLFormElement} */ (byId('console-login')),
    keyInput: /** @type {HTMLInputElement} */ (byId('console-key')),
    error: byId('console-error'),
    session: byId('console-session'),
    status: byId('console-status'),
    forget: byId('console-forget'),
    view: byId('console-view'),
    monitoringOff: byId('console-monitoring-off'),
    toolsBody: byId('tools-body'),
    eventsBody: byId('events-body'),
    bans: byId('bans-list'),
  };

  const refreshMs = clamp(Number.parseInt(root.dataset.refreshMs || '', 10), 1000, 60000, DEFAULT_REFRESH_MS);

  /** Polling state. `generation` changes whenever the key changes, so late answers are dropped. */
  const state = {
    generation: 0,
    timer: 0,
    controller: /** @type {AbortController | null} */ (null),
    failures: 0,
    lastPollAt: 0,
    /** The previous successful sample, for per-second rates. */
    previous: /** @type {{ at: number, requests: number, authFailures: number, rateLimited: number } | null} */ (null),
    history: newHistory(),
  };

  /** In-memory fallback when sessionStorage is unavailable (some privacy modes): this page only. */
  let memoryKey = '';

  // ---------------------------------------------------------------- key storage

  function loadKey() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY) || '';
    } catch {
      return memoryKey;
    }
  }

  /** @param {string} key */
  function saveKey(key) {
    memoryKey = key;
    try {
      window.sessionStorage.setItem(STORAGE_KEY, key);
      memoryKey = '';
    } catch {
      // Kept in memory only; gone on reload.
    }
  }

  function clearKey() {
    memoryKey = '';
    try {
      window.sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Starts polling with the key in storage; figures appear with the first good answer. */
  function start() {
    stopPolling();
    clearView();
    state.failures = 0;
    hideError();
    ui.login.hidden = true;
    ui.session.hidden = false;
    setStatus('Connecting…', false);
    void poll();
  }

  /**
   * Forgets the key and everything shown from it.
   * @param {string} message why, when the operator did not ask ('' for "Forget key")
   */
  function disconnect(message) {
    stopPolling();
    clearKey();
    clearView();
    ui.session.hidden = true;
    ui.login.hidden = false;
    if (message) showError(message);
    else hideError();
    ui.keyInput.focus();
  }

  function stopPolling() {
    state.generation++;
    window.clearTimeout(state.timer);
    state.timer = 0;
    if (state.controller !== null) state.controller.abort();
    state.controller = null;
  }

  /** @param {number} delayMs */
  function schedule(delayMs) {
    window.clearTimeout(state.timer);
    state.timer = 0;
    // A hidden tab does not poll; visibilitychange resumes it.
    if (document.visibilityState === 'hidden') return;
    state.timer = window.setTimeout(() => void poll(), delayMs);
  }

  async function poll() {
    const key = loadKey();
    if (key === '') return;
    const generation = ++state.generation;
    const controller = new AbortController();
    state.controller = controller;
    state.lastPollAt = Date.now();
    const timeout = window.setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);

    let response;
    let body = null;
    try {
      response = await fetch(STATUS_URL, {
        method: 'GET',
        headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
        signal: controller.signal,
      });
      if (response.ok || response.status === 403) body = await response.json().catch(() => null);
    } catch {
      if (generation === state.generation) retryLater('Server unreachable');
      return;
    } finally {
      window.clearTimeout(timeout);
      if (state.controller === controller) state.controller = null;
    }
    if (generation !== state.generation) return; // the key changed or was forgotten meanwhile

    if (response.status === 401) {
      disconnect('Key rejected (401): the server did not accept this key. Enter a valid API key.');
      return;
    }
    if (response.status === 429) {
      retryLater('Rate limited (429)', retryAfterMs(response));
      return;
    }
    if (response.status === 403 && body !== null && typeof body === 'object' && body.error === 'insufficient_scope') {
      disconnect(
        'This key is not an operator key (403): it may call tools, but the console needs an operator key ' +
          '(mcp-warden keys create --operator, the server\u2019s --api-key, or a token with the operator scope).',
      );
      return;
    }
    if (response.status === 403) {
      retryLater('Refused (403): this address may be banned or not allowed', retryAfterMs(response));
      return;
    }
    if (!response.ok || body === null || typeof body !== 'object') {
      retryLater(response.ok ? 'Unreadable answer from the server' : 'Server answered ' + response.status);
      return;
    }

    state.failures = 0;
    render(body);
    ui.view.hidden = false;
    setStatus('Updated ' + new Date().toLocaleTimeString() + ' · refreshing every ' + formatSeconds(refreshMs), false);
    schedule(refreshMs);
  }

  /**
   * Keeps the key and the last figures, and polls again later: after Retry-After when the
   * server gave one, else with exponential backoff from the normal interval.
   * @param {string} reason
   * @param {number} [serverDelayMs]
   */
  function retryLater(reason, serverDelayMs) {
    state.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, refreshMs * 2 ** state.failures);
    const delay = Math.min(MAX_BACKOFF_MS, Math.max(serverDelayMs || 0, backoff));
    setStatus(reason + '; retrying in ' + formatSeconds(delay) + '.', true);
    schedule(delay);
  }

  /** @param {Response} response */
  function retryAfterMs(response) {
    const seconds = Number.parseInt(response.headers.get('retry-after') || '', 10);
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  }

  // ---------------------------------------------------------------- rendering

  /** @param {any} status the parsed /api/status body */
  function render(status) {
    const now = Date.now();
    const requests = count(status.requestsServed);
    const authFailures = count(status.authFailures);
    const rateLimited = count(status.rateLimited);
    const sessions = count(status.activeSessions);
    const memory = status.memory && typeof status.memory === 'object' ? status.memory : {};
    const rss = count(memory.rssBytes);

    // Rates need two samples; a counter going down means the server restarted.
    const previous = state.previous;
    let rps = NaN;
    let authPerMin = NaN;
    let limitedPerMin = NaN;
    if (previous !== null && requests >= previous.requests && now > previous.at) {
      const seconds = (now - previous.at) / 1000;
      rps = (requests - previous.requests) / seconds;
      authPerMin = (Math.max(0, authFailures - previous.authFailures) / seconds) * 60;
      limitedPerMin = (Math.max(0, rateLimited - previous.rateLimited) / seconds) * 60;
    } else if (previous !== null) {
      state.history = newHistory();
    }
    state.previous = { at: now, requests, authFailures, rateLimited };
    const history = state.history;
    if (Number.isFinite(rps)) {
      push(history.rps, rps);
      push(history.authFailures, authPerMin);
      push(history.rateLimited, limitedPerMin);
    }
    push(history.sessions, sessions);
    push(history.memory, rss);

    setText('stat-uptime', formatDuration(count(status.uptimeSeconds)));
    setText('stat-uptime-detail', 'version ' + clip(status.version));
    setText('stat-rps', Number.isFinite(rps) ? formatRate(rps) : '…');
    setText('stat-rps-detail', Number.isFinite(rps) ? 'since last refresh' : 'needs two refreshes');
    setText('stat-requests', formatCount(requests));
    setText('stat-requests-detail', 'since start');
    setText('stat-auth-failures', formatCount(authFailures));
    setText('stat-auth-failures-detail', Number.isFinite(authPerMin) ? formatRate(authPerMin) + ' / min now' : '');
    setText('stat-rate-limited', formatCount(rateLimited));
    setText('stat-rate-limited-detail', Number.isFinite(limitedPerMin) ? formatRate(limitedPerMin) + ' / min now' : '');
    setText('stat-sessions', formatCount(sessions));
    setText('stat-sessions-detail', '2025 era');
    setText('stat-modern', formatCount(count(status.modernRequests)));
    setText('stat-modern-detail', 'stateless, since start');
    setText('stat-memory', formatBytes(rss));
    setText('stat-memory-detail', 'heap ' + formatBytes(count(memory.heapUsedBytes)) + ' of ' + formatBytes(count(memory.heapTotalBytes)));
    setText('stat-forbidden', formatCount(count(status.forbidden)));
    setText('stat-forbidden-detail', formatCount(count(status.scopeDenials)) + ' scope denials');

    const security = status.security && typeof status.security === 'object' ? status.security : {};
    const keys = security.keys && typeof security.keys === 'object' ? security.keys : {};
    setText('stat-keys', formatCount(count(keys.active)));
    setText('stat-keys-detail', 'of ' + formatCount(count(keys.total)) + ' known');

    drawSparkline('chart-rps', history.rps, 'Requests per second', false);
    drawSparkline('chart-auth-failures', history.authFailures, 'Auth failures per minute', true);
    drawSparkline('chart-rate-limited', history.rateLimited, 'Rate-limited requests per minute', true);
    drawSparkline('chart-sessions', history.sessions, 'Active sessions', false);
    drawSparkline('chart-memory', history.memory, 'Resident memory in bytes', false);

    ui.monitoringOff.hidden = status.monitoring !== false;
    renderTools(status.tools);
    renderEvents(security.recentEvents);
    renderBans(security.bans);
  }

  /** @param {unknown} tools `{ name: { calls, errors, avgMs } }` */
  function renderTools(tools) {
    const rows = [];
    if (tools && typeof tools === 'object') {
      for (const [name, entry] of Object.entries(tools)) {
        const counters = entry && typeof entry === 'object' ? entry : {};
        rows.push({ name, calls: count(counters.calls), errors: count(counters.errors), avgMs: Number(counters.avgMs) });
      }
    }
    rows.sort((a, b) => b.calls - a.calls || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const body = ui.toolsBody;
    body.replaceChildren();
    if (rows.length === 0) {
      body.append(emptyRow(4, 'No tool calls yet.'));
      return;
    }
    for (const row of rows) {
      body.append(
        tableRow([
          cell(clip(row.name), 'wrap'),
          cell(formatCount(row.calls), 'num'),
          cell(formatCount(row.errors), 'num'),
          cell(Number.isFinite(row.avgMs) ? row.avgMs.toFixed(1) : '–', 'num'),
        ]),
      );
    }
  }

  /** @param {unknown} events newest first: `[{ time, type, ip?, principal?, reason?, tool? }]` */
  function renderEvents(events) {
    const body = ui.eventsBody;
    body.replaceChildren();
    const list = Array.isArray(events) ? events : [];
    if (list.length === 0) {
      body.append(emptyRow(5, 'No security events.'));
      return;
    }
    for (const event of list) {
      if (!event || typeof event !== 'object') continue;
      const type = clip(event.type);
      const time = cell(formatTime(event.time));
      time.title = clip(event.time);
      const kind = cell(type);
      // Types are the server's own identifiers; the class is set only for plain names.
      if (/^[a-z_]{1,40}$/.test(type)) kind.className = 'event-' + type;
      const detail = [event.tool !== undefined ? 'tool ' + clip(event.tool) : '', clip(event.reason)].filter(Boolean).join(' · ');
      body.append(tableRow([time, kind, cell(clip(event.ip)), cell(clip(event.principal)), cell(detail, 'wrap')]));
    }
  }

  /** @param {unknown} bans `[{ client, until }]` */
  function renderBans(bans) {
    const list = ui.bans;
    list.replaceChildren();
    const entries = Array.isArray(bans) ? bans : [];
    if (entries.length === 0) {
      const item = document.createElement('li');
      item.className = 'empty';
      item.textContent = 'No client is banned.';
      list.append(item);
      return;
    }
    for (const ban of entries) {
      if (!ban || typeof ban !== 'object') continue;
      const item = document.createElement('li');
      item.textContent = clip(ban.client) + ' until ' + formatTime(ban.until);
      list.append(item);
    }
  }

  /** Removes every figure, row and chart (after a rejected or forgotten key). */
  function clearView() {
    ui.view.hidden = true;
    for (const element of root.querySelectorAll('.stat-value, .stat-detail')) element.textContent = '';
    for (const element of root.querySelectorAll('.spark-box')) element.replaceChildren();
    ui.toolsBody.replaceChildren();
    ui.eventsBody.replaceChildren();
    ui.bans.replaceChildren();
    ui.monitoringOff.hidden = true;
    setStatus('', false);
    state.previous = null;
    state.history = newHistory();
  }

  /**
   * A sparkline: the series as a line over a shaded area, newest point on the right, scaled
   * from zero (or from the series minimum for memory-like series that never approach zero).
   * @param {string} id @param {number[]} values @param {string} label @param {boolean} bad
   */
  function drawSparkline(id, values, label, bad) {
    const box = document.getElementById(id);
    if (box === null) return;
    const width = 100;
    const height = 30;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', bad ? 'spark bad' : 'spark');
    svg.setAttribute('role', 'img');

    const base = document.createElementNS(SVG_NS, 'line');
    base.setAttribute('class', 'base');
    base.setAttribute('x1', '0');
    base.setAttribute('x2', String(width));
    base.setAttribute('y1', String(height));
    base.setAttribute('y2', String(height));
    svg.append(base);

    if (values.length < 2) {
      svg.setAttribute('aria-label', label + ': collecting data');
      box.replaceChildren(svg);
      return;
    }
    const max = Math.max(...values);
    const min = id === 'chart-memory' ? Math.min(...values) : 0;
    const span = max - min || 1;
    const step = width / (HISTORY - 1);
    const offset = width - (values.length - 1) * step;
    const points = values.map((value, index) => {
      const x = offset + index * step;
      const y = height - ((value - min) / span) * (height - 2) - 1;
      return x.toFixed(2) + ',' + y.toFixed(2);
    });

    const area = document.createElementNS(SVG_NS, 'polygon');
    area.setAttribute('class', 'area');
    area.setAttribute('points', offset.toFixed(2) + ',' + height + ' ' + points.join(' ') + ' ' + width + ',' + height);
    const line = document.createElementNS(SVG_NS, 'polyline');
    line.setAttribute('class', 'line');
    line.setAttribute('points', points.join(' '));
    svg.append(area, line);

    const last = values[values.length - 1];
    const format = id === 'chart-memory' ? formatBytes : formatRate;
    svg.setAttribute('aria-label', label + ' over the last ' + values.length + ' refreshes: now ' + format(last) + ', peak ' + format(max));
    const title = document.createElementNS(SVG_NS, 'title');
    title.textContent = svg.getAttribute('aria-label');
    svg.prepend(title);
    box.replaceChildren(svg);
  }

  // ---------------------------------------------------------------- small helpers

  function newHistory() {
    return { rps: [], authFailures: [], rateLimited: [], sessions: [], memory: [] };
  }

  /** @param {number[]} series @param {number} value */
  function push(series, value) {
    series.push(value);
    if (series.length > HISTORY) series.splice(0, series.length - HISTORY);
  }

  /** @param {number} value @param {number} min @param {number} max @param {number} fallback */
  function clamp(value, min, max, fallback) {
    if (!Number.isFinite(value)) return fallback;
    return Math.min(max, Math.max(min, value));
  }

  /** A non-negative finite number, else 0. @param {unknown} value */
  function count(value) {
    const number = Number(value);
    return Number.isFinite(number) && number > 0 ? number : 0;
  }

  /** Server text for display: a string cut to MAX_TEXT characters, '' for nothing. @param {unknown} value */
  function clip(value) {
    if (value === undefined || value === null) return '';
    const text = String(value);
    return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + '…' : text;
  }

  /** @param {string} id @param {string} text */
  function setText(id, text) {
    const element = document.getElementById(id);
    if (element !== null) element.textContent = text;
  }

  /** @param {string} text @param {string} [className] */
  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  /** @param {HTMLTableCellElement[]} cells */
  function tableRow(cells) {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  }

  /** @param {number} columns @param {string} text */
  function emptyRow(columns, text) {
    const td = cell(text, 'empty');
    td.colSpan = columns;
    return tableRow([td]);
  }

  /** @param {string} text @param {boolean} warn */
  function setStatus(text, warn) {
    ui.status.textContent = text;
    ui.status.classList.toggle('warn', warn);
  }

  /** @param {string} text */
  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = false;
  }

  function hideError() {
    ui.error.textContent = '';
    ui.error.hidden = true;
  }

  const numberFormat = new Intl.NumberFormat('en-US');

  /** @param {number} value */
  function formatCount(value) {
    return numberFormat.format(value);
  }

  /** @param {number} value */
  function formatRate(value) {
    if (!Number.isFinite(value)) return '–';
    return value >= 100 ? numberFormat.format(Math.round(value)) : value.toFixed(value >= 10 ? 1 : 2);
  }

  /** @param {number} bytes */
  function formatBytes(bytes) {
    const mib = bytes / (1024 * 1024);
    return mib >= 1024 ? (mib / 1024).toFixed(2) + ' GiB' : mib.toFixed(1) + ' MiB';
  }

  /** @param {number} ms */
  function formatSeconds(ms) {
    return Math.round(ms / 100) / 10 + ' s';
  }

  /** @param {number} total seconds */
  function formatDuration(total) {
    const seconds = Math.floor(total);
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
    if (days > 0) return days + 'd ' + hours + 'h';
    if (hours > 0) return hours + 'h ' + pad(minutes) + 'm';
    if (minutes > 0) return minutes + 'm ' + pad(seconds % 60) + 's';
    return seconds + 's';
  }

  /** Local wall-clock time of an ISO timestamp, or the clipped input when it is not one. @param {unknown} value */
  function formatTime(value) {
    const date = new Date(typeof value === 'string' ? value : NaN);
    return Number.isNaN(date.getTime()) ? clip(value) : date.toLocaleTimeString();
  }

  // ---------------------------------------------------------------- wiring

  ui.login.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.keyInput.value.trim();
    // Clear the field at once: the key lives in sessionStorage, not in the page.
    ui.keyInput.value = '';
    // Printable ASCII without spaces: anything else cannot be a key and would break the header.
    if (!/^[\x21-\x7e]{1,8192}$/.test(key)) {
      showError('That does not look like an API key (printable characters, no spaces).');
      return;
    }
    saveKey(key);
    start();
  });

  ui.forget.addEventListener('click', () => disconnect(''));

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      window.clearTimeout(state.timer);
      state.timer = 0;
    } else if (loadKey() !== '' && state.timer === 0 && state.controller === null) {
      schedule(Math.max(0, state.lastPollAt + refreshMs - Date.now()));
    }
  });

  // Resume with a key this tab already holds (after a reload), else ask for one.
  if (loadKey() !== '') start();
  else ui.login.hidden = false;
})();
