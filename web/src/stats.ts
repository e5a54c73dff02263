// What the page exposes on `window.parleyStats`, for people poking at the
// console and for the browser test.

export type ConnectionState = 'idle' | 'starting' | 'connecting' | 'live' | 'closed' | 'error';

export interface ParleyStats {
  state: ConnectionState;
  /** The server's handshake arrived. */
  handshake: boolean;
  metadata: unknown;
  pagesSent: number;
  /** Reply audio chunks out of the decoder. */
  audioChunksDecoded: number;
  /** Samples handed to the playback worklet. */
  samplesScheduled: number;
  /** Samples the worklet has played. */
  samplesPlayed: number;
  bufferMs: number;
  underruns: number;
  transcript: string;
  /** Everything shown to the user as an error: server 0x05 messages, decoder failures, the reason the connection ended. */
  errors: string[];
  closeCode: number | null;
  latencyMs: { last: number | null; p50: number | null; p95: number | null };
}

declare global {
  interface Window {
    parleyStats: ParleyStats;
  }
}

export function freshStats(): ParleyStats {
  return {
    state: 'idle',
    handshake: false,
    metadata: null,
    pagesSent: 0,
    audioChunksDecoded: 0,
    samplesScheduled: 0,
    samplesPlayed: 0,
    bufferMs: 0,
    underruns: 0,
    transcript: '',
    errors: [],
    closeCode: null,
    latencyMs: { last: null, p50: null, p95: null },
  };
}
