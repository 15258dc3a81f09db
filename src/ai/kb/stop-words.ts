/**
 * Stop words dropped before lexical (BM25) matching. Negations ("not", "no", 不, 没) are kept on
 * purpose: "my card did not arrive" and "my card arrived" are different questions. The intent
 * model sees every token, because it learns for itself which words carry meaning.
 */

/** English function words, already lower-cased; matched before stemming. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then else of at by for with about against between into through during ' +
    'before after above below to from up down in out on off over under again further once here there ' +
    'all any both each few more most other some such only own same so than too very s t just ' +
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her ' +
    'hers herself it its itself they them their theirs themselves this that these those ' +
    'am is are was were be been being have has had having do does did doing ' +
    'would should could can will shall may might must ' +
    'please hi hello hey thanks thank pls plz'
  ).split(' '),
);

/** Chinese particles, pronouns and politeness words that say nothing about the topic. */
export const CHINESE_STOP_WORDS: ReadonlySet<string> = new Set([
  '的',
  '了',
  '吗',
  '呢',
  '吧',
  '啊',
  '呀',
  '哦',
  '嘛',
  '么',
  '着',
  '过',
  '地',
  '得',
  '我',
  '我们',
  '你',
  '你们',
  '您',
  '他',
  '她',
  '它',
  '他们',
  '这',
  '那',
  '这个',
  '那个',
  '是',
  '在',
  '和',
  '与',
  '及',
  '或',
  '也',
  '都',
  '就',
  '还',
  '又',
  '把',
  '被',
  '给',
  '请',
  '请问',
  '一下',
  '一个',
  '有',
  '要',
  '想',
  '能',
  '可以',
  '会',
  '怎么',
  '怎样',
  '如何',
  '什么',
  '哪',
  '哪里',
  '为什么',
  '好',
  '谢谢',
  '你好',
  '麻烦',
]);

/**
 * Question words. Not stop words for BM25 ("why was I charged" and "how do I pay" differ, and
 * BM25's IDF already discounts them), but they say nothing about whether a question is on topic,
 * so the intent model's known-word share ignores them.
 */
export const QUESTION_WORDS: ReadonlySet<string> = new Set([
  'what',
  'which',
  'who',
  'whom',
  'whose',
  'when',
  'where',
  'why',
  'how',
  '什么',
  '怎么',
  '为什么',
  '哪',
  '哪里',
  '哪个',
  '多少',
  '几',
  '吗',
]);
