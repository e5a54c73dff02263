import { Conversation } from './conversation.js';
import { chatUrl, defaultServerUrl, prefill } from './settings.js';
import { freshStats, type ConnectionState } from './stats.js';

// Page wiring: the form, the buttons, the meters and the transcript.

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

const form = $<HTMLFormElement>('settings');
const server = $<HTMLInputElement>('server');
const token = $<HTMLInputElement>('token');
const connectBtn = $<HTMLButtonElement>('connect');
const disconnectBtn = $<HTMLButtonElement>('disconnect');
const stateEl = $('state');
const statusEl = $('status');
const problemEl = $('problem');
const transcriptEl = $('transcript');
const metaEl = $('meta');
const meters = {
  latency: $('latency'),
  latencyP95: $('latency-p95'),
  buffer: $('buffer'),
  bufferBar: $<HTMLProgressElement>('buffer-bar'),
  mic: $<HTMLProgressElement>('mic-level'),
  decoded: $('decoded'),
  sent: $('sent'),
  underruns: $('underruns'),
};

window.parleyStats = freshStats();
let conversation: Conversation | null = null;

server.value = defaultServerUrl(location);
const pageQuery = new URLSearchParams(location.search);
prefill(form, pageQuery);
token.value = pageQuery.get('token') ?? '';

const STATE_LABELS: Record<ConnectionState, string> = {
  idle: 'not connected',
  starting: 'starting',
  connecting: 'connecting',
  live: 'live',
  closed: 'disconnected',
  error: 'error',
};

function setState(s: ConnectionState, message: string): void {
  window.parleyStats.state = s;
  stateEl.textContent = STATE_LABELS[s];
  stateEl.dataset['state'] = s;
  statusEl.textContent = message;
  const busy = s === 'starting' || s === 'connecting' || s === 'live';
  connectBtn.disabled = busy;
  disconnectBtn.disabled = !busy;
  for (const el of [...form.querySelectorAll('input'), server, token]) el.disabled = busy;
}

function showProblem(message: string): void {
  problemEl.textContent = message;
  problemEl.hidden = false;
}

connectBtn.addEventListener('click', () => {
  let url: URL;
  try {
    url = chatUrl(server.value, form, token.value);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('not a WebSocket URL');
  } catch {
    showProblem('The server address must look like ws://host:8998/api/chat.');
    return;
  }
  if (!form.reportValidity()) return;
  problemEl.hidden = true;
  transcriptEl.replaceChildren();
  metaEl.textContent = '';
  window.parleyStats = freshStats();
  const stats = window.parleyStats;
  conversation = new Conversation(stats, {
    state: setState,
    text: (text, color) => {
      const span = document.createElement('span');
      span.textContent = text;
      if (color !== null) span.className = `c${color % 8}`;
      transcriptEl.append(span);
      transcriptEl.scrollTop = transcriptEl.scrollHeight;
    },
    metadata: (value) => {
      metaEl.textContent = describeMetadata(value);
    },
    micLevel: (rms) => {
      meters.mic.value = Math.min(1, rms * 4);
    },
    problem: (message) => showProblem(message),
  });
  void conversation.start(url);
});

disconnectBtn.addEventListener('click', () => conversation?.stop());
form.addEventListener('submit', (e) => e.preventDefault());

function describeMetadata(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const m = value as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof m['model'] === 'string') parts.push(`model ${m['model']}`);
  for (const key of ['text_seed', 'audio_seed', 'text_temperature', 'audio_temperature']) {
    if (m[key] !== undefined && m[key] !== null) parts.push(`${key.replace('_', ' ')} ${String(m[key])}`);
  }
  return parts.join(' · ');
}

const fmtMs = (v: number | null): string => (v === null ? '–' : `${Math.round(v)} ms`);

setInterval(() => {
  const s = window.parleyStats;
  meters.latency.textContent = fmtMs(s.latencyMs.p50);
  meters.latencyP95.textContent = `p95 ${fmtMs(s.latencyMs.p95)} · last ${fmtMs(s.latencyMs.last)}`;
  meters.buffer.textContent = `${Math.round(s.bufferMs)} ms`;
  meters.bufferBar.value = Math.min(s.bufferMs, 320);
  meters.decoded.textContent = `${s.audioChunksDecoded} chunks · ${(s.samplesScheduled / 24000).toFixed(1)} s`;
  meters.sent.textContent = String(s.pagesSent);
  meters.underruns.textContent = String(s.underruns);
  if (s.state !== 'live') meters.mic.value = 0;
}, 200);
