// k6's browser-like WebSocket, played by ws's own browser-style API
// (binaryType 'arraybuffer', onmessage/onclose events with data/code).
import WebSocket from 'ws';

export { WebSocket };
