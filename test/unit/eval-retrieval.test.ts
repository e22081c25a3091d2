import assert from 'node:assert/strict';
import { averagePrecision, hitsAtK, reciprocalRank, relevantRanks } from '../../core/eval/retrieval';

describe('eval: retrieval metrics (Hits@k, MRR, MAP) by normalised match', () => {
  const ranks = relevantRanks(['Paris is in France.', 'noise', 'The Louvre is a museum', 'more noise'], ['paris is in france', 'louvre is museum', 'never retrieved']);

  it('finds relevant ranks by SQuAD-normalised equality', () => {
    assert.deepEqual(ranks, [1, 3]);
  });

  it('Hits@k is 1 when a relevant context is in the top k', () => {
    assert.equal(hitsAtK([3], 2), 0);
    assert.equal(hitsAtK([3], 3), 1);
    assert.equal(hitsAtK([], 5), 0);
  });

  it('MRR is 1 over the first relevant rank', () => {
    assert.equal(reciprocalRank([3, 4]), 1 / 3);
    assert.equal(reciprocalRank([]), 0);
  });

  it('average precision divides by all reference contexts (hand-computed)', () => {
    // (1/1 + 2/3) / 3 references
    assert.equal(averagePrecision(ranks, 3), (1 + 2 / 3) / 3);
    assert.ok(Number.isNaN(averagePrecision([], 0)));
  });

  it('counts a context retrieved twice once', () => {
    assert.deepEqual(relevantRanks(['a fact', 'A fact!', 'other'], ['a fact']), [1]);
    assert.deepEqual(relevantRanks(['x', 'y'], ['y', 'y']), [2]);
  });
});
