// fortisim's web console. Reads the world (GET /world, /status, /rules), follows the live feed
// (GET /events, Server-Sent Events read through fetch so that a control token can go with it), and
// acts only through control-API calls, each named in its button's title. No library, no build.
'use strict';

const $ = (id) => document.getElementById(id);
const operations = ['activation_license', 'provision', 'polling', 'mobile_provision', 'hardware_activation'];
const max_rows = 1000;
const exchanges = new Map();  // seq -> exchange, the newest max_rows
let token = sessionStorage.getItem('fortisim-token') || '';
let dropped = 0;
let clock = null;  // {now_ms, rate, at}: the virtual clock as last read, and when (local time)
let token_wanted = null;  // resolves when a token is given

if (location.hash.startsWith('#token=')) {  // a link that carries the token: kept for the tab, then hidden
  token = decodeURIComponent(location.hash.slice(7));
  sessionStorage.setItem('fortisim-token', token);
  history.replaceState(null, '', location.pathname);
}

function auth() { return token ? {Authorization: 'Bearer ' + token} : {}; }

function ask_token() {
  $('token-form').hidden = false;
  $('token').focus();
  if (!token_wanted) {
    let done;
    token_wanted = new Promise((resolve) => { done = resolve; });
    token_wanted.done = done;
  }
  return token_wanted;
}

/// One control-API call: its JSON answer, or an Error with the API's reason.
async function api(method, path, body) {
  const init = {method, headers: auth(), cache: 'no-store'};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch (e) { /* not JSON: keep the text */ }
  if (res.status === 401) ask_token();
  if (!res.ok) throw new Error((data && data.error) || res.status + ' ' + res.statusText);
  return data;
}

function say(text, bad) {
  const m = $('message');
  m.textContent = text;
  m.className = bad ? 'bad' : 'good';
}

/// A button's action: the call, what it answered, and the world read again.
async function act(what, method, path, body) {
  try {
    await api(method, path, body);
    say(what + ': done (' + method + ' ' + path + ')');
  } catch (e) {
    say(what + ': ' + e.message, true);
  }
  refresh();
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (cls) td.className = cls;
  return td;
}

function button(td, label, title, onclick) {
  const b = document.createElement('button');
  b.textContent = label;
  b.title = title;
  b.addEventListener('click', onclick);
  td.appendChild(b);
}

function iso(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }

/// A control-API resource that is not JSON (a PNG, the CA's PEM) as a data: URL, read with the
/// token: an <img src> or a link to the path itself would go without it (and the page's CSP
/// allows images from data: URLs).
async function data_url(path) {
  const res = await fetch(path, {headers: auth(), cache: 'no-store'});
  if (res.status === 401) ask_token();
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  const blob = await res.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/// A second, smaller line in a cell.
function line(td, text, cls) {
  const small = document.createElement('small');
  small.className = 'line' + (cls ? ' ' + cls : '');
  small.textContent = text;
  td.appendChild(small);
  return small;
}

// ---- the live table ----

/// The "d" object of a request or reply body, or {} (not JSON, or cut short in the journal).
function d_of(body) {
  try {
    const d = JSON.parse(body).d;
    return d && typeof d === 'object' ? d : {};
  } catch (x) { return {}; }
}

function error_message(e) {
  const error = d_of(e.reply_body).error;
  return error && error.error_message ? error.error_message : '';
}

/// What came of an exchange, as its row is coloured: "answer" (a normal reply, a DNS answer, a
/// client certificate noted), "fault" (a rule fired: a failure injected on purpose), or "error"
/// (FortiCare error codes in the reply, an HA member's error, an HTTP error or no reply, a client
/// that refused our TLS, left or sent nothing, a DNS query dropped or failed).
function outcome(e) {
  if (e.rule) return 'fault';
  if (e.stage === 'dns') return /^(after \d+ ms: )?(SERVFAIL|dropped)/.test(e.action) ? 'error' : 'answer';
  if (e.stage === 'tls' && /^(no )?client certificate$/.test(e.action)) return 'answer';
  if (e.stage !== 'http') return 'error';
  const heard = !e.outcome || e.outcome === 'sent';
  const failed = e.error_code || e.errors || e.member_errors || e.status === 0 || e.status >= 400;
  return failed || !heard ? 'error' : 'answer';
}

function answer(e) {
  if (e.stage === 'dns') return e.type + ' → ' + e.action;
  if (e.stage !== 'http') return e.stage + ': ' + e.action;
  if (e.status === 0) return 'no reply (' + e.action + ')';
  let text = 'HTTP ' + e.status;
  if (e.error_code) text += ', error ' + e.error_code + ' ' + error_message(e);
  return text;
}

function why(e) {
  if (e.rule) return 'rule "' + e.rule + '": ' + e.action;
  return e.reason;
}

function visible(e) {
  const device = $('f-device').value.trim().toUpperCase();
  if (device && !(e.serials + ' ' + e.tokens).toUpperCase().includes(device)) return false;
  const op = $('f-op').value;
  if (op && e.operation !== op) return false;
  const out = $('f-outcome').value;
  return !out || outcome(e) === out;
}

function add_exchange(e) {
  if (exchanges.has(e.seq)) return;
  exchanges.set(e.seq, e);
  const body = $('exchanges').tBodies[0];
  const row = body.insertRow(0);
  row.dataset.seq = e.seq;
  row.className = 'outcome-' + outcome(e);
  cell(row, e.seq);
  cell(row, iso(e.time_ms).slice(11, 23));
  cell(row, e.client_address).title = e.client_address;
  cell(row, e.sni).title = e.sni;
  cell(row, e.operation || e.stage);
  serial_cell(row, e);
  cell(row, answer(e), 'answer');
  why_cell(row, why(e));
  row.hidden = !visible(e);
  row.addEventListener('click', () => show_detail(e));
  prune(body);
}

/// The serial column: the device (or the first token, the code, the target); for the phone's
/// request, the token it activated (from the reply) and the phone's mobile_id, not the 16 hex
/// digits of the activation code it sent, which name nothing a tester knows.
function serial_cell(row, e) {
  if (e.operation !== 'mobile_provision') return cell(row, (e.serials || e.tokens || e.code || e.target).split(' ')[0]);
  const td = cell(row, d_of(e.reply_body).token || 'no token', 'phone-row');
  const phone = d_of(e.request_body).mobile_id;
  if (phone) line(td, 'phone ' + phone, 'mono');
  td.title = 'the phone ' + (phone || '(no mobile_id)') + ' sent the activation code ' + e.code;
  return td;
}

/// The why column wraps, a few lines at most; the whole reason is its tooltip.
function why_cell(row, text) {
  const td = cell(row, '', 'why');
  const clamp = document.createElement('div');
  clamp.className = 'clamp';
  clamp.textContent = text || '';
  td.title = text || '';
  td.appendChild(clamp);
  return td;
}

/// The oldest rows beyond max_rows go (an exchange's with its entry).
function prune(body) {
  while (body.rows.length > max_rows) {
    const last = body.rows[body.rows.length - 1];
    if (last.dataset.seq) exchanges.delete(Number(last.dataset.seq));
    last.remove();
  }
}

/// A notice in the timeline, between the exchanges: a control action, a reload (and its
/// problems), the listener refusing or listening again, a TLS or storage notice.
function add_notice(n) {
  const body = $('exchanges').tBodies[0];
  const row = body.insertRow(0);
  row.className = n.ok === false ? 'outcome-error notice' : 'notice';
  cell(row, '');
  cell(row, iso(n.time_ms || Date.now()).slice(11, 23));
  cell(row, '');
  cell(row, '');
  cell(row, n.event);
  cell(row, n.action || '');
  const rest = Object.entries(n).filter(([k]) => !['event', 'action', 'time_ms'].includes(k));
  cell(row, rest.map(([k, v]) => k + '=' + (typeof v === 'string' ? v : JSON.stringify(v))).join(' '), 'answer');
  cell(row, '');
  prune(body);
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (x) { return text; }
}

function show_detail(e) {
  $('detail').hidden = false;
  $('detail-title').textContent = '#' + e.seq + ' ' + e.method + ' ' + e.target + ' from ' + e.client_address;
  $('detail-request').textContent = e.request_headers + '\n' + pretty(e.request_body);
  $('detail-reply').textContent = pretty(e.reply_body) || '(nothing was sent)';
}

function filter() {
  for (const row of $('exchanges').tBodies[0].rows)
    if (row.dataset.seq) row.hidden = !visible(exchanges.get(Number(row.dataset.seq)));  // notices stay
}

// ---- the live feed ----

function set_feed(text, cls) {
  $('feed').textContent = text;
  $('feed').className = 'pill ' + cls;
}

function on_event(block) {
  let event = 'message', data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const key = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (key === 'event') event = value;
    else if (key === 'data') data += (data ? '\n' : '') + value;
  }
  if (event === 'exchange') {
    add_exchange(JSON.parse(data));
    refresh_soon();
  } else if (event === 'notice') {
    const n = JSON.parse(data);
    // A reset of everything (it names the scenario) empties the journal too.
    const emptied = n.action === 'clear journal' || (n.action === 'reset' && n.scenario !== undefined);
    if (n.event === 'control' && emptied) clear_exchanges();
    add_notice(n);
    refresh_soon();
  } else if (event === 'dropped') {
    dropped += JSON.parse(data).dropped;
    $('dropped').textContent = dropped + ' missed (the browser fell behind)';
  }
}

function clear_exchanges() {
  exchanges.clear();
  $('exchanges').tBodies[0].replaceChildren();
}

async function follow() {
  for (;;) {
    try {
      // From the start of the journal each time: a fortisim that restarted counts from 1 again.
      const res = await fetch('/events?after=0', {headers: auth(), cache: 'no-store'});
      if (res.status === 401) {
        set_feed('needs the token', 'bad');
        await ask_token();
        continue;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      clear_exchanges();
      set_feed('live', 'good');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value;
        for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) on_event(buffer.slice(0, end));
      }
    } catch (e) { /* fortisim stopped or the network went: try again below */ }
    set_feed('reconnecting', 'bad');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// ---- the world ----

// A large world is read a page at a time (GET /world?offset=&limit=): the console never asks for,
// or holds, more than `page_size` records of each kind, however many licences the lab has.
const page_size = 200;
let page_offset = 0;

function render_paging(world) {
  const page = world.page;
  const largest = Math.max(page.licenses, page.tokens, page.hardware_tokens);
  $('paging').hidden = largest <= page_size;
  $('page-text').textContent = 'records ' + (page.offset + 1) + ' to ' + Math.min(page.offset + page_size, largest) +
    ' of ' + page.licenses + ' licences, ' + page.tokens + ' tokens, ' + page.hardware_tokens + ' hardware tokens';
  $('page-prev').disabled = page.offset === 0;
  $('page-next').disabled = page.offset + page_size >= largest;
}

let refresh_timer = null;
function refresh_soon() {
  if (!refresh_timer) refresh_timer = setTimeout(() => { refresh_timer = null; refresh(); }, 150);
}

function render_licences(world) {
  const body = $('licences').tBodies[0];
  body.replaceChildren();
  for (const l of world.licenses) {
    const row = body.insertRow();
    cell(row, l.activation_code, 'mono');
    cell(row, l.license, 'mono');
    cell(row, l.bound_to.join(' ') || 'not redeemed');
    cell(row, l.valid_until === null ? 'no limit' : iso(l.valid_until * 1000));
    cell(row, l.tokens.length);
    const td = cell(row, '');
    if (l.valid_until !== null)
      button(td, 'expire', 'POST /clock {"now": valid_until + 1 s}: the clock moves past it',
             () => act('expire ' + l.activation_code, 'POST', '/clock', {now: l.valid_until + 1}));
    if (l.bound_to.length)
      button(td, 'unbind', 'POST /reset {"license": CODE}',
             () => act('unbind ' + l.activation_code, 'POST', '/reset', {license: l.activation_code}));
  }
}

// Each pending token's QR code, read once (the world is drawn again after every event): "serial
// code" -> the promise of its data: URL; codes no longer shown are forgotten.
const qr_images = new Map();

/// A pending token (provisioned, waiting for its phone): its activation code as the user gets it,
/// until when it lasts, and its QR code (GET /tokens/<serial>/qr), FortiCare's qr_code.
function activation_cell(row, t, shown) {
  const td = cell(row, t.activation_code || '', 'activation mono');
  if (!t.activation_code) return;
  line(td, 'until ' + iso(t.expire * 1000), 'expiry');
  const img = document.createElement('img');
  img.className = 'qr';
  img.alt = 'QR code of ' + t.activation_code;
  img.title = 'GET /tokens/' + t.token + '/qr: what the user scans with FortiToken Mobile';
  td.appendChild(img);
  const key = t.token + ' ' + t.activation_code;
  shown.add(key);
  if (!qr_images.has(key)) qr_images.set(key, data_url('/tokens/' + encodeURIComponent(t.token) + '/qr'));
  qr_images.get(key).then((url) => { img.src = url; }).catch(() => {
    qr_images.delete(key);
    img.alt = 'no QR code (activated or expired meanwhile)';
  });
}

function render_tokens(world) {
  const body = $('tokens').tBodies[0];
  body.replaceChildren();
  const shown = new Set();
  for (const t of world.tokens) {
    const row = body.insertRow();
    cell(row, t.token, 'mono');
    cell(row, t.status, 'state ' + t.status.replace(' ', '-'));
    activation_cell(row, t, shown);
    cell(row, t.mobile_id, 'mono');
    cell(row, t.os_ver);
    const otp = cell(row, t.otp ? t.otp.code : '', 'mono otp');
    if (t.otp && t.otp.counter !== undefined) {
      otp.textContent = t.otp.code + ' (HOTP #' + t.otp.counter + ')';  // changes when used, not with time
    } else if (t.otp) {
      otp.dataset.until = Date.now() + t.otp.valid_for_s * 1000;
      otp.dataset.code = t.otp.code;
    }
    cell(row, t.secret, 'mono secret');
  }
  for (const key of qr_images.keys())
    if (!shown.has(key)) qr_images.delete(key);
  $('secrets').textContent = world.secrets_shown ? 'seeds shown (--show-secrets)' : 'seeds hidden';
}

/// Each device's verdict (GET /devices): did it trust our certificate, refuse it, or only ask DNS?
function render_devices(devices) {
  const body = $('devices').tBodies[0];
  body.replaceChildren();
  for (const d of devices) {
    const row = body.insertRow();
    cell(row, d.address, 'mono');
    cell(row, d.serial, 'mono');
    cell(row, d.verdict, d.verdict === 'trusts our certificate' ? 'good' : d.verdict.startsWith('refused') ||
                         d.verdict.startsWith('ended') ? 'bad' : '');
    cell(row, d.certificate);
    cell(row, d.names.join(' '), 'mono');
    cell(row, d.last_request);
  }
}

function render_hardware(world) {
  const body = $('hardware').tBodies[0];
  body.replaceChildren();
  for (const h of world.hardware_tokens) {
    const row = body.insertRow();
    cell(row, h.token, 'mono');
    cell(row, h.lock, h.lock);
    cell(row, h.activated_by);
    cell(row, h.secret, 'mono secret');
    const td = cell(row, '');
    if (h.lock === 'consumed')
      button(td, 'release lock', 'POST /hardware/' + h.token + '/release',
             () => act('release ' + h.token, 'POST', '/hardware/' + encodeURIComponent(h.token) + '/release'));
  }
}

function render_rules(rules) {
  const list = $('rules');
  list.replaceChildren();
  for (const r of rules) {
    const li = document.createElement('li');
    li.textContent = r.name + ' (' + r.source + ', fired ' + r.fired + ') ';
    if (r.source === 'runtime')
      button(li, 'disarm', 'DELETE /rules/' + r.name,
             () => act('disarm ' + r.name, 'DELETE', '/rules/' + encodeURIComponent(r.name)));
    list.appendChild(li);
  }
}

/// Where fortisim listens and the lab CA devices must trust (GET /status), in the header.
function render_addresses(status) {
  $('https').textContent = 'HTTPS ' + status.addresses.https;
  $('dns').hidden = !status.addresses.dns;
  $('dns').textContent = 'DNS ' + (status.addresses.dns || '');
  const sha = status.ca.sha256;
  $('ca').hidden = !sha;  // null: fortisim serves a certificate given with --cert
  if (!sha || $('ca-sha256').dataset.sha256 === sha) return;
  $('ca-sha256').title = 'SHA-256 ' + sha;
  $('ca-sha256').dataset.sha256 = sha;
  $('ca-sha256').textContent = sha.slice(0, 23) + '…';  // enough to tell CAs apart; the whole on hover
  data_url('/ca').then((url) => { $('ca-download').href = url; }).catch((e) => say('the lab CA: ' + e.message, true));
}

// Refreshes overlap (an event, a click, the clock): only the latest started is drawn, so an answer
// read before a reset never paints over one read after it.
let refresh_seq = 0;

async function refresh() {
  const seq = ++refresh_seq;
  try {
    const [world, status, rules, devices] = await Promise.all(
      [api('GET', '/world?offset=' + page_offset + '&limit=' + page_size), api('GET', '/status'), api('GET', '/rules'),
       api('GET', '/devices')]);
    if (seq !== refresh_seq) return;
    // The world shrank under the page shown (a reset, a reload): go back to the last page it fills.
    const largest = Math.max(world.page.licenses, world.page.tokens, world.page.hardware_tokens);
    if (page_offset > 0 && page_offset >= largest) {
      page_offset = Math.max(0, Math.ceil(largest / page_size) - 1) * page_size;
      return refresh();
    }
    clock = {now_ms: world.clock.now_ms, rate: world.clock.rate, at: Date.now()};
    tick();
    $('scenario').textContent = 'scenario ' + status.scenario + ', seed ' + status.seed;
    render_addresses(status);
    $('listening').textContent = world.listening ? 'listening' : 'refusing connections';
    $('listening').className = 'pill ' + (world.listening ? 'good' : 'bad');
    render_paging(world);
    render_licences(world);
    render_tokens(world);
    render_hardware(world);
    render_rules(rules);
    render_devices(devices);
  } catch (e) {
    if (seq !== refresh_seq || !$('token-form').hidden) return;  // superseded, or waiting for the token
    say('cannot read the world: ' + e.message, true);
  }
}

/// Once a second: the virtual clock and each OTP's countdown; a code that has run out is read again.
function tick() {
  if (clock) $('clock').textContent = iso(clock.now_ms + (Date.now() - clock.at) * clock.rate);
  let stale = false;
  for (const td of document.querySelectorAll('td.otp[data-until]')) {
    const left = Math.ceil((Number(td.dataset.until) - Date.now()) / 1000);
    if (left <= 0) stale = true;
    td.textContent = td.dataset.code + ' (' + Math.max(left, 0) + ' s)';
  }
  if (stale) refresh_soon();
}

// ---- actions ----

function wire() {
  for (const op of operations) $('f-op').add(new Option(op, op));
  for (const id of ['f-device', 'f-op', 'f-outcome']) $(id).addEventListener('input', filter);
  $('refuse5').addEventListener('click', () => act('refuse 5 s', 'POST', '/listener/refuse', {for_ms: 5000}));
  $('refuse-n').addEventListener('click',
    () => act('refuse', 'POST', '/listener/refuse', {for_ms: Math.round(Number($('refuse-s').value) * 1000)}));
  $('open').addEventListener('click', () => act('reopen', 'POST', '/listener/open'));
  $('advance').addEventListener('click',
    () => act('move the clock', 'POST', '/clock', {advance_s: Math.round(Number($('advance-s').value))}));
  $('set-now').addEventListener('click', () => act('set the clock', 'POST', '/clock', {now: $('now').value.trim()}));
  $('reload').addEventListener('click', () => act('reload', 'POST', '/reload'));
  $('switch').addEventListener('click', () => act('serve ' + $('scenario-pick').value, 'POST', '/scenario',
    {scenario: $('scenario-pick').value, reset: $('scenario-reset').checked}));
  $('page-prev').addEventListener('click', () => { page_offset = Math.max(0, page_offset - page_size); refresh(); });
  $('page-next').addEventListener('click', () => { page_offset += page_size; refresh(); });
  $('reset').addEventListener('click', () => {
    if (confirm('Reset the model, the rules and the journal to the scenario\'s start?'))
      act('reset', 'POST', '/reset', {});
  });
  $('rule-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    let then;
    try { then = JSON.parse($('rule-then').value); } catch (e) { say('the action is not JSON: ' + e.message, true); return; }
    const when = {};
    if ($('rule-op').value) when.operation = $('rule-op').value;
    if ($('rule-value').value.trim()) when[$('rule-key').value] = $('rule-value').value.trim();
    act('arm ' + $('rule-name').value, 'POST', '/rules', {name: $('rule-name').value, when, then});
  });
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value;
    sessionStorage.setItem('fortisim-token', token);
    $('token-form').hidden = true;
    if (token_wanted) token_wanted.done();
    token_wanted = null;
    refresh();
  });
}

/// The shipped scenarios in the picker, each with its description as its tooltip; the one in force chosen.
async function list_scenarios() {
  try {
    const list = await api('GET', '/scenarios');
    const pick = $('scenario-pick');
    pick.replaceChildren();
    for (const s of list.shipped) {
      const option = new Option(s.name, s.name, false, s.file === list.current.file);
      option.title = s.description || s.problems || '';
      pick.add(option);
    }
  } catch (e) {
    say('scenarios: ' + e.message, true);
  }
}

wire();
list_scenarios();
refresh();
follow();
setInterval(tick, 1000);
