// Server → client messages of Moshi's protocol (shared/PROTOCOL.md), parsed
// leniently: a client must keep talking to any server that speaks it.

export type ServerMessage =
  /** 1 byte (Moshi's Python server) or 9 bytes with two u32 versions (the Rust servers). */
  | { kind: 'handshake'; protocolVersion: number | null; modelVersion: number | null }
  | { kind: 'audio'; data: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'coloredText'; color: number; text: string }
  | { kind: 'metadata'; value: unknown }
  | { kind: 'error'; message: string }
  | { kind: 'ping' }
  | { kind: 'control'; action: number }
  | { kind: 'ignored'; reason: string };

import { Kind } from '../../transport/protocol.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function parseServerMessage(data: Uint8Array): ServerMessage {
  if (data.length === 0) return { kind: 'ignored', reason: 'empty message' };
  const payload = data.subarray(1);
  switch (data[0]) {
    case Kind.Handshake: {
      if (payload.length < 8) return { kind: 'handshake', protocolVersion: null, modelVersion: null };
      const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      return { kind: 'handshake', protocolVersion: v.getUint32(0, true), modelVersion: v.getUint32(4, true) };
    }
    case Kind.Audio:
      return { kind: 'audio', data: payload };
    case Kind.Text:
      return { kind: 'text', text: utf8.decode(payload) };
    case Kind.Control:
      return { kind: 'control', action: payload[0] ?? -1 };
    case Kind.Metadata: {
      const text = utf8.decode(payload);
      try {
        return { kind: 'metadata', value: JSON.parse(text) as unknown };
      } catch {
        return { kind: 'metadata', value: text };
      }
    }
    case Kind.Error:
      return { kind: 'error', message: utf8.decode(payload) };
    case Kind.Ping:
      return { kind: 'ping' };
    case Kind.ColoredText:
      return { kind: 'coloredText', color: payload[0] ?? 0, text: utf8.decode(payload.subarray(1)) };
    default:
      return { kind: 'ignored', reason: `unknown message kind 0x${data[0]!.toString(16).padStart(2, '0')}` };
  }
}

/** Close codes in words; the server's own reason, when it gave one, follows. */
export function describeClose(code: number, reason: string): string {
  const words: Record<number, string> = {
    1000: 'the server ended the conversation',
    1001: 'the server is shutting down',
    1006: 'the connection was lost',
    1008: 'the server refused the session',
    1009: 'a message was too large for the server',
    1011: 'the server hit an internal error',
    1013: 'the server is busy: every conversation slot is taken; try again later',
  };
  const base = words[code] ?? `the connection closed (code ${code})`;
  return reason ? `${base} (${code}: ${reason})` : `${base} (${code})`;
}
