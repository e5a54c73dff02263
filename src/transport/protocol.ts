// Moshi's WebSocket protocol (shared/PROTOCOL.md): every binary message
// starts with a kind byte.

export const Kind = {
  Handshake: 0x00,
  Audio: 0x01,
  Text: 0x02,
  Control: 0x03,
  Metadata: 0x04,
  Error: 0x05,
  Ping: 0x06,
  ColoredText: 0x07,
} as const;

export const Control = { Start: 0x00, EndTurn: 0x01, Pause: 0x02, Restart: 0x03 } as const;

export type ClientMessage =
  | { kind: 'audio'; payload: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'control'; action: 'start' | 'endTurn' | 'pause' | 'restart' }
  | { kind: 'ping' }
  | { kind: 'metadata'; payload: Uint8Array }
  | { kind: 'invalid'; reason: string };

const controlNames = ['start', 'endTurn', 'pause', 'restart'] as const;

/** Parses one client message; malformed input is a value, never an exception. */
export function parseClientMessage(data: Uint8Array): ClientMessage {
  if (data.length === 0) return { kind: 'invalid', reason: 'empty message' };
  const payload = data.subarray(1);
  switch (data[0]) {
    case Kind.Audio:
      return { kind: 'audio', payload };
    case Kind.Text:
      return { kind: 'text', text: new TextDecoder('utf-8', { fatal: false }).decode(payload) };
    case Kind.Control: {
      const action = payload.length === 1 ? controlNames[payload[0]!] : undefined;
      return action ? { kind: 'control', action } : { kind: 'invalid', reason: 'control message needs one byte 0..3' };
    }
    case Kind.Ping:
      return { kind: 'ping' };
    case Kind.Metadata:
      return { kind: 'metadata', payload };
    default:
      return { kind: 'invalid', reason: `unknown message kind 0x${data[0]!.toString(16).padStart(2, '0')}` };
  }
}

function withKind(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = kind;
  out.set(payload, 1);
  return out;
}

/** The Rust servers' handshake: kind, u32 protocol version, u32 model version (both 0). */
export function handshake(): Uint8Array {
  return new Uint8Array(9);
}

export const audioMessage = (oggPage: Uint8Array): Uint8Array => withKind(Kind.Audio, oggPage);
export const textMessage = (text: string): Uint8Array => withKind(Kind.Text, new TextEncoder().encode(text));
export const errorMessage = (text: string): Uint8Array => withKind(Kind.Error, new TextEncoder().encode(text));
export const metadataMessage = (meta: unknown): Uint8Array =>
  withKind(Kind.Metadata, new TextEncoder().encode(JSON.stringify(meta)));
export const pingMessage = (): Uint8Array => new Uint8Array([Kind.Ping]);

/** Close codes the server uses. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  /** Reported locally when a connection ends without a close frame (never sent). */
  Abnormal: 1006,
  PolicyViolation: 1008,
  TooBig: 1009,
  InternalError: 1011,
  TryAgainLater: 1013,
} as const;
