// Moshi's WebSocket protocol as the page speaks it (shared/PROTOCOL.md).

export type ServerMessage =
  /** 1 byte from Moshi's Python server, 9 (two u32 versions) from the Rust ones and Parley. */
  | { kind: 'handshake' }
  | { kind: 'audio'; data: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'coloredText'; color: number; text: string }
  | { kind: 'metadata'; value: unknown }
  | { kind: 'error'; message: string }
  | { kind: 'ping' }
  | { kind: 'ignored' };

const utf8 = new TextDecoder();

export function parseServerMessage(data: Uint8Array): ServerMessage {
  const payload = data.subarray(1);
  switch (data[0]) {
    case 0x00:
      return { kind: 'handshake' };
    case 0x01:
      return { kind: 'audio', data: payload };
    case 0x02:
      return { kind: 'text', text: utf8.decode(payload) };
    case 0x04: {
      const text = utf8.decode(payload);
      try {
        return { kind: 'metadata', value: JSON.parse(text) as unknown };
      } catch {
        return { kind: 'metadata', value: text };
      }
    }
    case 0x05:
      return { kind: 'error', message: utf8.decode(payload) };
    case 0x06:
      return { kind: 'ping' };
    case 0x07:
      return { kind: 'coloredText', color: payload[0] ?? 0, text: utf8.decode(payload.subarray(1)) };
    default:
      // Control echoes, empty messages and kinds added later.
      return { kind: 'ignored' };
  }
}

export function audioMessage(oggPage: Uint8Array): Uint8Array {
  const msg = new Uint8Array(oggPage.length + 1);
  msg[0] = 0x01;
  msg.set(oggPage, 1);
  return msg;
}

/** A closed connection explained to a person; `detail` is the server's own words, if any. */
export function describeClose(code: number, detail: string): { text: string; isError: boolean } {
  const said = detail ? ` (the server said: “${detail}”)` : '';
  switch (code) {
    case 1000:
      return { text: `The conversation ended${said}.`, isError: false };
    case 1001:
      return { text: `The server is shutting down or restarting. Try again in a minute${said}.`, isError: true };
    case 1005:
      return { text: 'Disconnected.', isError: false };
    case 1006:
      return { text: 'The connection was lost: the server stopped or the network dropped. Check that the server is running, then connect again.', isError: true };
    case 1008:
      // Policy: bad settings, no audio for too long, not reading the replies.
      return { text: `The server would not go on with this conversation${said}. If it names a setting, correct it under Sampling settings; then connect again.`, isError: true };
    case 1009:
      return { text: `The server refused a message that was too large${said}.`, isError: true };
    case 1011:
      return { text: `The server ran into an internal error and ended the conversation${said}. Connect again; if it keeps happening, the server's log says more.`, isError: true };
    case 1013:
      return { text: `The server is busy: every conversation slot is taken. Try again in a minute${said}.`, isError: true };
    default:
      return { text: `The connection closed (code ${code})${said}.`, isError: code !== 1000 };
  }
}
