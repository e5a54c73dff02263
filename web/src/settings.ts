// Sampling settings as Moshi's query parameters (shared/PROTOCOL.md). Empty
// fields are left out so the server's defaults apply.

export const SETTING_NAMES = [
  'text_temperature',
  'text_topk',
  'audio_temperature',
  'audio_topk',
  'text_seed',
  'audio_seed',
  'pad_mult',
  'repetition_penalty_context',
  'repetition_penalty',
] as const;

export function chatUrl(server: string, form: HTMLFormElement, token: string): URL {
  const url = new URL(server);
  // Browsers cannot set headers on a WebSocket; Parley takes the credential as `token`.
  if (token.trim() !== '') url.searchParams.set('token', token.trim());
  for (const name of SETTING_NAMES) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement && input.value.trim() !== '') url.searchParams.set(name, input.value.trim());
  }
  return url;
}

/** Fills the form from the page's own query string, so a link can carry settings. */
export function prefill(form: HTMLFormElement, query: URLSearchParams): void {
  for (const name of SETTING_NAMES) {
    const input = form.elements.namedItem(name);
    const value = query.get(name);
    if (input instanceof HTMLInputElement && value !== null) input.value = value;
  }
}

export function defaultServerUrl(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/chat`;
}
