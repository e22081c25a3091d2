import assert from 'node:assert/strict';
import { corpusBleu, exactMatch, rougeL, rougeN, sentenceBleu, textBleu, tokenF1 } from '../../core/eval/lexical';
import { answerTokens, bleuTokens, normaliseAnswer, rougeTokens } from '../../core/eval/normalise';

const close = (actual: number, expected: number, tolerance = 1e-12) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

// The corpus of NLTK's corpus_bleu docstring (nltk/translate/bleu_score.py).
const HYP1 = 'It is a guide to action which ensures that the military always obeys the commands of the party';
const REF1A = 'It is a guide to action that ensures that the military will forever heed Party commands';
const REF1B = 'It is the guiding principle which guarantees the military forces always being under the command of the Party';
const REF1C = 'It is the practical guide for the army always to heed the directions of the party';
const HYP2 = 'he read the book because he was interested in world history';
const REF2A = 'he was interested in world history because he read the book';
const words = (s: string) => s.split(' ');

describe('eval: SQuAD normalisation, exact match and token F1', () => {
  it('lowercases, drops punctuation and the articles a/an/the, and fixes whitespace', () => {
    assert.equal(normaliseAnswer('  The  Eiffel-Tower, in an  instant!  '), 'eiffeltower in instant');
    assert.equal(normaliseAnswer('Theatre and a theme'), 'theatre and theme');
    assert.deepEqual(answerTokens('A the an'), []);
  });

  it('exact match after normalisation, best over the references', () => {
    assert.equal(exactMatch('The Eiffel Tower!', ['eiffel tower']), 1);
    assert.equal(exactMatch('Eiffel', ['Louvre', 'eiffel tower']), 0);
    assert.equal(exactMatch('Louvre.', ['Eiffel Tower', 'the louvre']), 1);
    assert.ok(Number.isNaN(exactMatch('x', [])));
  });

  it('token F1 over the token multiset, best over the references (hand-computed)', () => {
    // cat sat on mat vs cat on mat: 3 shared, P 3/4, R 1 -> 6/7
    close(tokenF1('the cat sat on the mat', ['a cat on a mat']), 6 / 7);
    // paris vs paris france: P 1, R 1/2 -> 2/3; London gives 0
    close(tokenF1('Paris', ['London', 'paris, france']), 2 / 3);
    // multiset overlap: yes min(2,1) + no min(1,2) = 2 of 3 each side
    close(tokenF1('yes yes no', ['yes no no']), 2 / 3);
    assert.equal(tokenF1('', ['']), 0);
  });
});

describe('eval: ROUGE (rouge-score tokenizer, no stemming)', () => {
  it('tokenises as rouge-score: lowercase runs of [a-z0-9]', () => {
    assert.deepEqual(rougeTokens("The log's end, 42!"), ['the', 'log', 's', 'end', '42']);
  });

  it('matches the rouge-score README example', () => {
    // google-research/rouge README: scorer.score('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.')
    const target = 'The quick brown fox jumps over the lazy dog';
    const prediction = 'The quick brown dog jumps on the log.';
    const r1 = rougeN(prediction, target, 1);
    close(r1.precision, 0.75);
    close(r1.recall, 0.6666666666666666);
    close(r1.fmeasure, 0.7058823529411765);
    const r2 = rougeN(prediction, target, 2);
    close(r2.precision, 0.2857142857142857);
    close(r2.recall, 0.25);
    close(r2.fmeasure, 0.26666666666666666);
    const rl = rougeL(prediction, target);
    close(rl.precision, 0.625);
    close(rl.recall, 0.5555555555555556);
    close(rl.fmeasure, 0.5882352941176471);
  });

  it('gives 0 when nothing is shared or a side is empty', () => {
    assert.equal(rougeN('alpha beta', 'gamma delta', 1).fmeasure, 0);
    assert.equal(rougeL('', 'gamma').fmeasure, 0);
    assert.equal(rougeN('one', 'one', 2).fmeasure, 0);
  });
});

describe('eval: BLEU-4 (Chen & Cherry method 1 smoothing)', () => {
  it('matches NLTK corpus_bleu on its docstring corpus: 0.5920778868801042', () => {
    const score = corpusBleu([
      { hypothesis: words(HYP1), references: [REF1A, REF1B, REF1C].map(words) },
      { hypothesis: words(HYP2), references: [words(REF2A)] },
    ]);
    close(score, 0.5920778868801042);
  });

  it('matches NLTK sentence_bleu on the docstring sentences (0.5045666840058485, and 0.3 ** 0.25 by hand)', () => {
    close(sentenceBleu(words(HYP1), [REF1A, REF1B, REF1C].map(words)), 0.5045666840058485);
    // hyp2 vs ref2a: 11/11, 9/10, 6/9, 4/8 matches, equal lengths.
    close(sentenceBleu(words(HYP2), [words(REF2A)]), (1 * 0.9 * (6 / 9) * 0.5) ** 0.25);
    // The two sentence scores average to 0.6223247442490669 (as the NLTK port in BigDL checks).
    close((sentenceBleu(words(HYP1), [REF1A, REF1B, REF1C].map(words)) + sentenceBleu(words(HYP2), [words(REF2A)])) / 2, 0.6223247442490669);
  });

  it('smooths a zero n-gram count to 0.1 matches (method 1), by hand', () => {
    // the cat sat on the mat / the cat is on the mat: 5/6, 3/5, 1/4, 0/3 -> 0.1/3; same length, no brevity penalty.
    const expected = Math.exp((Math.log(5 / 6) + Math.log(3 / 5) + Math.log(1 / 4) + Math.log(0.1 / 3)) / 4);
    close(textBleu('the cat sat on the mat', ['the cat is on the mat']), expected);
  });

  it('applies the brevity penalty with the closest reference length', () => {
    // 4 tokens against references of 6 and 9: r = 6, BP = exp(1 - 6/4); all n-grams match.
    close(sentenceBleu(words('a b c d'), [words('a b c d e f'), words('a b c d e f g h i')]), Math.exp(1 - 6 / 4));
  });

  it('is 0 with no unigram in common, and 1 for a copy', () => {
    assert.equal(textBleu('x y z w', ['a b c d']), 0);
    close(textBleu('Paris is the capital of France.', ['Paris is the capital of France.']), 1);
  });

  it('tokenises keeping case, punctuation as separate tokens', () => {
    assert.deepEqual(bleuTokens('Hello, World! 3.5'), ['Hello', ',', 'World', '!', '3', '.', '5']);
  });
});
