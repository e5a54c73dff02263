import protobuf from 'protobufjs';

/**
 * Writes a SentencePiece model (ModelProto with just its pieces) whose pieces
 * are whole words, for the built-in presets: their text ids then decode to
 * readable (if meaningless) words. Ids 0-3 are unk, bos, eos and pad as in
 * Kyutai's tokenizer.
 */
export function wordTokenizerModel(words: readonly string[], size: number): Uint8Array {
  const w = protobuf.Writer.create();
  const piece = (text: string, type: number, score: number) => {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(text);
    w.uint32((2 << 3) | 5).float(score);
    w.uint32((3 << 3) | 0).int32(type);
    w.ldelim();
  };
  piece('<unk>', 2, 0);
  piece('<s>', 3, 0);
  piece('</s>', 3, 0);
  piece('<pad>', 3, 0);
  for (let i = 4; i < size; i++) {
    const word = words[(i - 4) % words.length]!;
    const round = Math.floor((i - 4) / words.length);
    piece(round === 0 ? `▁${word}` : `▁${word}${round}`, 1, -i);
  }
  return w.finish();
}

export const DEMO_WORDS = (
  'the a and to of in is it you that he was for on are with as I his they be at one have this from or had by ' +
  'hot word but what some we can out other were all there when up use your how said an each she which do their ' +
  'time if will way about many then them write would like so these her long make thing see him two has look more ' +
  'day could go come did number sound no most people my over know water than call first who may down side been ' +
  'now find any new work part take get place made live where after back little only round man year came show every ' +
  'good me give our under name very through just form sentence great think say help low line differ turn cause much ' +
  'mean before move right boy old too same tell does set three want air well also play small end put home read hand ' +
  'port large spell add even land here must big high such follow act why ask men change went light kind off need ' +
  'house picture try us again animal point mother world near build self earth father head stand own page should ' +
  'country found answer school grow study still learn plant cover food sun four between state keep eye never last ' +
  'let thought city tree cross farm hard start might story saw far sea draw left late run while press close night ' +
  'real life few north open seem together next white children begin got walk example ease paper group always music'
).split(' ');
