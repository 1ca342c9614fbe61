// A random forest of regression trees, for fANOVA (./importance.ts). Each tree is kept as the
// partition of the unit cube its leaves make (one box per leaf, with the leaf's prediction),
// which is what fANOVA integrates over; nothing here predicts at a point.
//
// The trees follow Breiman's random forests as fANOVA uses them (Hutter, Hoos & Leyton-Brown,
// "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014): each tree
// learns from a bootstrap sample of the trials, tries a random subset of the features at each
// split, and splits to reduce the squared error until a leaf would hold fewer than
// `minSamplesLeaf` samples. Every random choice comes from `createRng(seed, "forest", tree)`,
// so a forest is a pure function of its data and settings.
//
// Splits:
// - numeric features: x < threshold goes left, the threshold halfway between two neighbouring
//   distinct values of the node's samples (as scikit-learn places it). Ordered choices and
//   randint sit at the middle of equal cells of [0, 1] (../samplers/encoding.ts), so a split
//   between two neighbouring values falls on the edge between their cells.
// - categorical features: a split sends a subset of the levels left. The best subset for
//   squared error is a prefix of the levels sorted by their mean response (Fisher, "On
//   grouping for maximum homogeneity", 1958; Breiman et al., "Classification and Regression
//   Trees", 1984), so the search costs one sort, not 2^levels subsets, and is exact. A level with no sample in the node goes with the larger child,
//   whose mean is the nearer to the node's: a level the data never showed there gets the
//   prediction that adds the least variance the data did not show. Treating the index as a
//   number instead would make "b between a and c" a modelling assumption of the config's
//   listing order; one-vs-rest splits (trees on one-hot columns, which Optuna's evaluator
//   grows) need several splits for what one subset split says. The fANOVA reference
//   implementation (pyrfr) splits categoricals by subsets too.

import { createRng, type Rng } from "../rng.js";

/** One feature of the forest's input. */
export interface ForestFeature {
  /** numeric: a value in [0, 1], ordered; categorical: a level index in 0..levels-1, unordered. */
  kind: "numeric" | "categorical";
  /** Categorical: the number of levels. Numeric: unused (0). */
  levels: number;
}

/** How a forest is grown. */
export interface ForestSettings {
  /** Trees in the forest. */
  trees: number;
  /** Features tried at each split: max(1, floor(fraction * features)). */
  featureFraction: number;
  /** The fewest samples (counted with bootstrap repeats) a leaf may hold. */
  minSamplesLeaf: number;
  /** The deepest a leaf may be (the root is depth 0). */
  maxDepth: number;
  /** Seed of every random choice. */
  seed: number;
}

/** A leaf of a tree: its box in the input space and its prediction there. */
export interface LeafRegion {
  /** The mean response of the leaf's samples. */
  value: number;
  /** Per feature, the box's lower bound (numeric features; 0 for categorical ones). */
  low: Float64Array;
  /** Per feature, the box's upper bound (numeric features; 1 for categorical ones). */
  high: Float64Array;
  /** Per feature, categorical: 1 for each level inside the box; numeric: undefined. */
  levels: ReadonlyArray<Uint8Array | undefined>;
}

/** A tree as the partition its leaves make of [0, 1]^numeric x levels^categorical. */
export interface RegressionTree {
  leaves: LeafRegion[];
}

/** The best split of a node found so far. */
interface Split {
  feature: number;
  /** The score to beat: sum over children of (sum of y)^2 / count; higher is better. */
  score: number;
  /** Numeric: go left when x < threshold. */
  threshold: number;
  /** Categorical: go left when goesLeft[level] is 1 (unseen levels included). */
  goesLeft: Uint8Array | undefined;
}

/**
 * Fits a random forest to rows `x` (one Float64Array per sample, one value per feature) and
 * responses `y`. Needs at least one sample; a tree whose samples cannot be split is one leaf.
 */
export function fitForest(
  features: readonly ForestFeature[],
  x: readonly Float64Array[],
  y: readonly number[],
  settings: ForestSettings,
): RegressionTree[] {
  const n = y.length;
  if (n === 0 || x.length !== n)
    throw new RangeError(`fitForest needs rows and responses, got ${x.length}, ${n}`);
  const d = features.length;
  // Column-major copies: a split scans one feature over a node's samples.
  const columns = features.map((_, f) => Float64Array.from(x, (row) => row[f] ?? 0));
  // Each numeric feature's samples sorted once, for every tree: a tree then keeps each node's
  // samples in that order by partitioning stably at each split, instead of sorting per node.
  const sortedOnce = features.map((feature, f) => {
    if (feature.kind === "categorical") return undefined;
    const column = columns[f] as Float64Array;
    return Int32Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => (column[a] as number) - (column[b] as number),
    );
  });
  // Centred responses keep the sums of the split search small, whatever the scores' offset.
  const mean = y.reduce((sum, v) => sum + v, 0) / n;
  const response = Float64Array.from(y, (v) => v - mean);
  const tried = Math.max(1, Math.min(d, Math.floor(settings.featureFraction * d)));
  const trees: RegressionTree[] = [];
  for (let t = 0; t < settings.trees; t++) {
    const rng = createRng(settings.seed, "forest", t);
    // The bootstrap sample, as a count per sample.
    const copies = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const drawn = rng.int(n);
      copies[drawn] = (copies[drawn] as number) + 1;
    }
    const expand = (order: ArrayLike<number>) => {
      const out = new Int32Array(n);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const s = order[i] as number;
        for (let c = copies[s] as number; c > 0; c--) out[at++] = s;
      }
      return out;
    };
    const members = expand(Int32Array.from({ length: n }, (_, i) => i));
    const sorted = sortedOnce.map((order) => (order ? expand(order) : undefined));
    const grower = new TreeGrower(features, columns, response, y, settings, tried, rng, members, sorted);
    grower.grow(0, n, 0);
    trees.push({ leaves: grower.leaves });
  }
  return trees;
}

/**
 * Grows one tree. A node is a range [start, end) of positions, the same in `members` (its
 * samples, bootstrap repeats included, in no particular order) and in each numeric feature's
 * `sorted` array (the same samples sorted by that feature).
 */
class TreeGrower {
  readonly leaves: LeafRegion[] = [];
  private readonly order: Int32Array;
  private readonly buffer: Int32Array;
  private readonly side: Uint8Array;
  /** Per level of a categorical feature: the sum and count of a node's responses (reused). */
  private readonly levelSums: Float64Array;
  private readonly levelCounts: Int32Array;
  /**
   * The box of the node being grown, narrowed before growing a child and restored after, so
   * only leaves allocate (they copy it).
   */
  private readonly box: LeafRegion;

  constructor(
    private readonly features: readonly ForestFeature[],
    private readonly columns: readonly Float64Array[],
    /** The responses less their mean, for the split search. */
    private readonly y: Float64Array,
    /** The responses as given: leaf values are their means, so a pure leaf predicts its score exactly. */
    private readonly raw: readonly number[],
    private readonly settings: ForestSettings,
    private readonly tried: number,
    private readonly rng: Rng,
    private readonly members: Int32Array,
    private readonly sorted: ReadonlyArray<Int32Array | undefined>,
  ) {
    this.order = new Int32Array(features.length);
    this.buffer = new Int32Array(y.length);
    this.side = new Uint8Array(y.length);
    const levels = Math.max(0, ...features.map((f) => f.levels));
    this.levelSums = new Float64Array(levels);
    this.levelCounts = new Int32Array(levels);
    this.box = {
      value: 0,
      low: new Float64Array(features.length),
      high: new Float64Array(features.length).fill(1),
      levels: features.map((f) => (f.kind === "categorical" ? new Uint8Array(f.levels).fill(1) : undefined)),
    };
  }

  /** Splits the node [start, end) at `depth`, or makes it a leaf. */
  grow(start: number, end: number, depth: number): void {
    const count = end - start;
    let sum = 0;
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let i = start; i < end; i++) {
      const v = this.raw[this.members[i] as number] as number;
      sum += v;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    const minLeaf = this.settings.minSamplesLeaf;
    const split =
      count >= 2 * minLeaf && depth < this.settings.maxDepth && low < high
        ? this.bestSplit(start, end)
        : undefined;
    if (split === undefined) {
      const { low: lows, high: highs, levels } = this.box;
      this.leaves.push({
        value: sum / count,
        low: lows.slice(),
        high: highs.slice(),
        levels: levels.map((mask) => mask?.slice()),
      });
      return;
    }
    const f = split.feature;
    const column = this.columns[f] as Float64Array;
    for (let i = start; i < end; i++) {
      const s = this.members[i] as number;
      const v = column[s] as number;
      this.side[s] = (split.goesLeft ? split.goesLeft[v] === 1 : v < split.threshold) ? 1 : 0;
    }
    const middle = this.partition(this.members, start, end);
    for (const order of this.sorted) if (order) this.partition(order, start, end);
    if (split.goesLeft) {
      const mask = this.box.levels[f] as Uint8Array;
      const saved = mask.slice();
      for (let level = 0; level < mask.length; level++)
        mask[level] = saved[level] === 1 && split.goesLeft[level] === 1 ? 1 : 0;
      this.grow(start, middle, depth + 1);
      for (let level = 0; level < mask.length; level++)
        mask[level] = saved[level] === 1 && split.goesLeft[level] === 0 ? 1 : 0;
      this.grow(middle, end, depth + 1);
      mask.set(saved);
    } else {
      const high = this.box.high[f] as number;
      this.box.high[f] = split.threshold;
      this.grow(start, middle, depth + 1);
      this.box.high[f] = high;
      const low = this.box.low[f] as number;
      this.box.low[f] = split.threshold;
      this.grow(middle, end, depth + 1);
      this.box.low[f] = low;
    }
  }

  /** Moves the left samples (`side` 1) of order[start, end) first, each side in its order; returns where the right ones start. */
  private partition(order: Int32Array, start: number, end: number): number {
    let at = start;
    let right = 0;
    for (let i = start; i < end; i++) {
      const s = order[i] as number;
      if (this.side[s] === 1) order[at++] = s;
      else this.buffer[right++] = s;
    }
    for (let i = 0; i < right; i++) order[at + i] = this.buffer[i] as number;
    return at;
  }

  /**
   * The best split over `tried` features in a random order; when none of those can split
   * the node (each constant there, or no split leaves minSamplesLeaf on both sides), the
   * search goes on through the other features, as scikit-learn's does, so a node is a leaf
   * only when no feature can split it.
   */
  private bestSplit(start: number, end: number): Split | undefined {
    const d = this.features.length;
    for (let f = 0; f < d; f++) this.order[f] = f;
    let best: Split | undefined;
    for (let k = 0; k < d; k++) {
      // Fisher-Yates, one step per feature visited.
      const pick = k + this.rng.int(d - k);
      const feature = this.order[pick] as number;
      this.order[pick] = this.order[k] as number;
      this.order[k] = feature;
      const candidate =
        this.features[feature]?.kind === "categorical"
          ? this.categoricalSplit(feature, start, end)
          : this.numericSplit(feature, start, end);
      if (candidate && (best === undefined || candidate.score > best.score)) best = candidate;
      if (k + 1 >= this.tried && best !== undefined) break;
    }
    return best;
  }

  private numericSplit(feature: number, start: number, end: number): Split | undefined {
    const column = this.columns[feature] as Float64Array;
    const sorted = this.sorted[feature] as Int32Array;
    const count = end - start;
    let total = 0;
    for (let i = start; i < end; i++) total += this.y[sorted[i] as number] as number;
    const minLeaf = this.settings.minSamplesLeaf;
    // Scalars, not an object per improvement: this loop runs for every node and feature.
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestAt = -1;
    let leftSum = 0;
    for (let i = start; i < end - 1; i++) {
      leftSum += this.y[sorted[i] as number] as number;
      const leftCount = i + 1 - start;
      if (leftCount < minLeaf || count - leftCount < minLeaf) continue;
      if (column[sorted[i] as number] === column[sorted[i + 1] as number]) continue;
      const rightSum = total - leftSum;
      const score = (leftSum * leftSum) / leftCount + (rightSum * rightSum) / (count - leftCount);
      if (score > bestScore) {
        bestScore = score;
        bestAt = i;
      }
    }
    if (bestAt < 0) return undefined;
    const here = column[sorted[bestAt] as number] as number;
    const next = column[sorted[bestAt + 1] as number] as number;
    // The midpoint, unless rounding puts it on `next` (neighbours one ulp apart).
    const middle = here / 2 + next / 2;
    return {
      feature,
      score: bestScore,
      threshold: middle > here && middle < next ? middle : next,
      goesLeft: undefined,
    };
  }

  private categoricalSplit(feature: number, start: number, end: number): Split | undefined {
    const column = this.columns[feature] as Float64Array;
    const levels = this.features[feature]?.levels ?? 0;
    const sums = this.levelSums;
    const counts = this.levelCounts;
    sums.fill(0, 0, levels);
    counts.fill(0, 0, levels);
    for (let i = start; i < end; i++) {
      const s = this.members[i] as number;
      const level = column[s] as number;
      sums[level] = (sums[level] as number) + (this.y[s] as number);
      counts[level] = (counts[level] as number) + 1;
    }
    const seen: number[] = [];
    for (let level = 0; level < levels; level++) if ((counts[level] as number) > 0) seen.push(level);
    if (seen.length < 2) return undefined;
    // Levels by mean response (ties: by index, so the order is deterministic).
    const meanOf = (level: number) => (sums[level] as number) / (counts[level] as number);
    seen.sort((a, b) => meanOf(a) - meanOf(b) || a - b);
    const count = end - start;
    const total = seen.reduce((s, level) => s + (sums[level] as number), 0);
    const minLeaf = this.settings.minSamplesLeaf;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestPrefix = 0;
    let bestLeftCount = 0;
    let leftSum = 0;
    let leftCount = 0;
    for (let k = 0; k < seen.length - 1; k++) {
      const level = seen[k] as number;
      leftSum += sums[level] as number;
      leftCount += counts[level] as number;
      if (leftCount < minLeaf || count - leftCount < minLeaf) continue;
      const rightSum = total - leftSum;
      const score = (leftSum * leftSum) / leftCount + (rightSum * rightSum) / (count - leftCount);
      if (score > bestScore) {
        bestScore = score;
        bestPrefix = k + 1;
        bestLeftCount = leftCount;
      }
    }
    if (bestPrefix === 0) return undefined;
    // Unseen levels go with the larger child (ties: left).
    const unseenLeft = bestLeftCount >= count - bestLeftCount ? 1 : 0;
    const goesLeft = new Uint8Array(levels).fill(unseenLeft);
    for (let k = 0; k < seen.length; k++) goesLeft[seen[k] as number] = k < bestPrefix ? 1 : 0;
    return { feature, score: bestScore, threshold: Number.NaN, goesLeft };
  }
}
