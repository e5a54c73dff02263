import { FRAME_SAMPLES } from './protocol.js';
import { isOpusHead, isOpusTags, opusPreSkip, restampPage, splitPages, type OggPage } from './ogg.js';

/** A pre-encoded Ogg Opus recording, ready to be streamed (and looped) page by page. */
export interface InputClip {
  /** OpusHead and OpusTags pages, sent first, as they are. */
  headers: Uint8Array[];
  /** Audio pages; the final page is left out so that every granule is untrimmed and loops join exactly. */
  audio: OggPage[];
  /** OpusHead pre-skip (48 kHz samples): decoded but discarded by the server. */
  preSkip: number;
  /** Granule of the last kept page: 48 kHz samples decoded per pass over the clip. */
  cycleGranule: number;
}

export function prepareClip(data: Uint8Array): InputClip {
  const pages = splitPages(data);
  const [head, tags] = pages;
  if (!head || !isOpusHead(head)) throw new Error('input clip: first page is not OpusHead');
  if (!tags || !isOpusTags(tags)) throw new Error('input clip: second page is not OpusTags (the clip must keep OpusTags on its own page)');
  const audio = pages.slice(2, pages.length - 1);
  let last = 0;
  for (const p of audio) {
    if (p.granule === -1) continue;
    if (p.granule < last) throw new Error(`input clip: granule goes backwards at page ${p.sequence}`);
    last = p.granule;
  }
  const preSkip = opusPreSkip(head);
  if (audio.length < 2 || last <= preSkip + 2 * FRAME_SAMPLES) throw new Error('input clip: too short to stream');
  return { headers: [head.bytes, tags.bytes], audio, preSkip, cycleGranule: last };
}

export interface ScheduledPage {
  bytes: Uint8Array;
  /** 24 kHz samples the server can decode once it has this page (pre-skip removed). */
  samples: number;
  /** Those samples as milliseconds: when a real-time recorder would have the page ready. */
  dueMs: number;
}

/**
 * Endless real-time page sequence over a clip: headers once, then the audio
 * pages over and over, restamped (sequence, granule) as one continuous
 * stream, as a microphone that never stops would send them.
 */
export class ClipCursor {
  private headerIndex = 0;
  private pass = 0;
  private index = 0;
  private samples = 0;

  constructor(private readonly clip: InputClip) {}

  next(): ScheduledPage {
    const { clip } = this;
    if (this.headerIndex < clip.headers.length) {
      return { bytes: clip.headers[this.headerIndex++]!, samples: 0, dueMs: 0 };
    }
    const page = clip.audio[this.index]!;
    const sequence = clip.headers.length + this.pass * clip.audio.length + this.index;
    const granule = page.granule === -1 ? -1 : this.pass * clip.cycleGranule + page.granule;
    const bytes = this.pass === 0 ? page.bytes : restampPage(page, sequence, granule);
    if (granule !== -1) this.samples = Math.max(0, Math.floor((granule - clip.preSkip) / 2));
    if (++this.index === clip.audio.length) {
      this.index = 0;
      this.pass++;
    }
    return { bytes, samples: this.samples, dueMs: this.samples / 24 };
  }
}
