import type { LoadSocket, SocketEvents } from '../../load/core/runtime.js';
import { buildPage } from '../../src/audio/ogg/page-writer.js';
import { oggPages } from '../helpers/speech.js';
import type { VirtualRuntime } from './virtual-runtime.js';

export interface FakeServerOptions {
  /** ms from the input frame that triggers a reply to the reply's pages going out. */
  processingMs?: number;
  /** Refuse like a full server: error message and close 1013, no handshake. */
  refuse?: boolean;
  /** Stop replying after this many output frames. */
  maxReplies?: number;
}

export interface FakeServer {
  connect(url: string, events: SocketEvents, rt: VirtualRuntime): LoadSocket;
  /** Time the server received the page completing input frame n (index n, 1-based). */
  inputCompletedAt: number[];
  urls: string[];
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * A Moshi-protocol server in miniature on virtual time: it counts decoded
 * input samples the way Parley does (granule minus pre-skip), and when input
 * frame n+1 completes it sends output frame n (one frame of delay) as two
 * 40 ms Ogg pages, after OpusHead and OpusTags pages.
 */
export function fakeServer(opts: FakeServerOptions = {}): FakeServer {
  const processingMs = opts.processingMs ?? 30;
  const server: FakeServer = { inputCompletedAt: [], urls: [], connect };
  function connect(url: string, events: SocketEvents, rt: VirtualRuntime): LoadSocket {
    server.urls.push(url);
    let closed = false;
    let preSkip = 0;
    let framesIn = 0;
    let outSeq = 0;
    let replies = 0;
    const deliver = (kind: number, payload: Uint8Array, delay: number) =>
      rt.timer(() => {
        if (!closed) events.onMessage(Uint8Array.from([kind, ...payload]), rt.now());
      }, delay);
    const closeWith = (code: number, delay: number) =>
      rt.timer(() => {
        if (closed) return;
        closed = true;
        events.onClose(code, '');
      }, delay);
    rt.timer(() => events.onOpen(), 1);
    if (opts.refuse) {
      deliver(0x05, ascii('server busy'), 2);
      closeWith(1013, 3);
    } else {
      deliver(0x00, new Uint8Array(8), 5);
      deliver(0x04, ascii('{}'), 5);
    }
    const page = (granule: number, packet: Uint8Array, bos = false) =>
      buildPage({ serial: 42, sequence: outSeq++, granule, flags: { bos }, packets: [packet] });
    return {
      send(data) {
        if (closed || data[0] !== 0x01) return;
        for (const p of oggPages(data.subarray(1))) {
          const body = p.bytes.subarray(27 + p.bytes[26]!);
          if (ascii('OpusHead').every((b, i) => body[i] === b)) preSkip = body[10]! | (body[11]! << 8);
          if (p.granule <= 0n) continue;
          const complete = Math.floor((Number(p.granule) - preSkip) / 2 / 1920);
          while (framesIn < complete) {
            server.inputCompletedAt[++framesIn] = rt.now();
            const n = framesIn - 1; // the reply this input frame releases
            if (n < 1 || (opts.maxReplies !== undefined && replies >= opts.maxReplies)) continue;
            replies++;
            const pages = n === 1 ? [page(0, ascii('OpusHead\x01\x01\x38\x01\xc0\x5d\0\0\0\0\0'), true), page(0, ascii('OpusTagsx'))] : [];
            pages.push(page(n * 3840 - 1920, new Uint8Array(20)), page(n * 3840, new Uint8Array(20)));
            for (const pg of pages) deliver(0x01, pg, processingMs);
            if (n % 5 === 0) deliver(0x02, ascii(' word'), processingMs);
          }
        }
      },
      close() {
        closeWith(1000, 2);
      },
    };
  }
  return server;
}
