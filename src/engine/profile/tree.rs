//! A classification tree (CART with Gini impurity) that gives the same tree on every run.
//!
//! linfa-trees, used before, keeps class counts in a `HashMap` with a random seed per process:
//! its impurity sums and its choice among equally good splits or equally common classes then
//! differ from one run to the next, so the same segments could read as different rules after a
//! reopen. Here counts are whole numbers, impurities are computed from them in a fixed order, and
//! every tie has a written rule: the first feature, then the lowest threshold, wins among equal
//! splits; the lowest segment number wins among equally common classes.
//!
//! Rows are sorted once per feature; each split partitions those orders stably, so a level of the
//! tree costs one pass over the rows per feature. Features are searched, and the two sides of a
//! split grown, in parallel; every choice is made in the fixed order above, so the tree is the
//! same on any number of threads.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::engine::memo::{Memo, values_key};

/// Settings of a tree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TreeParams {
    /// Deepest split.
    pub max_depth: usize,
    /// Fewest customers in a leaf.
    pub min_leaf: usize,
    /// Smallest decrease of the weighted Gini impurity that makes a split worth it.
    pub min_impurity_decrease: f64,
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// A leaf predicting a class.
    Leaf {
        /// The class (segment) it predicts: its most common, the lowest on ties.
        class: usize,
    },
    /// A split: rows whose value of `column` is below `threshold` go left.
    Split {
        /// The column split on.
        column: usize,
        /// Values below it go left, the rest right.
        threshold: f64,
        /// The rows below the threshold.
        left: Box<Node>,
        /// The rows at or above it.
        right: Box<Node>,
    },
}

impl Node {
    /// The class the tree predicts for `row` of `x`.
    pub fn predict(&self, x: ArrayView2<f64>, row: usize) -> usize {
        let mut node = self;
        loop {
            match node {
                Node::Leaf { class } => return *class,
                Node::Split { column, threshold, left, right } => {
                    node = if x[[row, *column]] < *threshold { left } else { right };
                }
            }
        }
    }
}

/// Fits a tree predicting `y` (classes below `k`) from the finite values `x` (one row per entry of
/// `y`). `y` must not be empty.
pub(crate) fn fit(x: ArrayView2<f64>, y: &[usize], k: usize, params: TreeParams) -> Node {
    // Each feature's values as one slice, and its rows in ascending order of them, ties by row
    // (a total order, so the unstable sort gives the one order there is).
    // Each sort is kept by the values it sorted: a new k grows a new tree on the same columns.
    static ORDERS: Memo<Vec<u32>> = Memo::new(16 << 20);
    let columns: Vec<Vec<f64>> = (0..x.ncols()).map(|j| x.column(j).to_vec()).collect();
    let orders: Vec<Vec<u32>> = columns
        .par_iter()
        .map(|values| {
            let key = values_key(b"tree order", values);
            ORDERS.get_or_compute(key, values.len(), || ascending(values)).as_ref().clone()
        })
        .collect();
    grow(&columns, y, k, orders, 0, &params)
}

/// The rows of `values` in ascending order (`f64::total_cmp`), ties by row: sorted as pairs of an
/// integer with the same order and the row, which compare without reading `values` again.
fn ascending(values: &[f64]) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            // `total_cmp`'s order as unsigned integers: negatives flipped, positives above them.
            let bits = v.to_bits();
            let key = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
            (key, row as u32)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, row)| row).collect()
}

/// The most common class among the counts, the lowest on ties.
fn modal(counts: &[u64]) -> usize {
    let mut best = 0;
    for (c, &n) in counts.iter().enumerate() {
        if n > counts[best] {
            best = c;
        }
    }
    best
}

/// The best split of one feature's rows (in `order`): its purity and threshold, the first (lowest
/// threshold) among equals.
fn best_split(values: &[f64], order: &[u32], y: &[usize], counts: &[u64], min_leaf: usize) -> Option<(f64, f64)> {
    let m = order.len();
    let k = counts.len();
    let total_squares: u64 = counts.iter().map(|&c| c * c).sum();
    let mut left = vec![0u64; k];
    let mut right = counts.to_vec();
    let (mut left_squares, mut right_squares) = (0u64, total_squares);
    let mut best: Option<(f64, f64)> = None;
    for (i, pair) in order.windows(2).enumerate() {
        let row = pair[0] as usize;
        let c = y[row];
        right_squares -= 2 * right[c] - 1;
        right[c] -= 1;
        left_squares += 2 * left[c] + 1;
        left[c] += 1;
        let (value, next) = (values[row], values[pair[1] as usize]);
        let n_left = i + 1;
        if value == next || n_left < min_leaf || m - n_left < min_leaf {
            continue;
        }
        let purity = left_squares as f64 / n_left as f64 + right_squares as f64 / (m - n_left) as f64;
        if best.is_none_or(|(b, _)| purity > b) {
            // The midpoint, unless rounding puts it on the lower value (adjacent floats).
            let mid = value + (next - value) / 2.0;
            best = Some((purity, if mid > value { mid } else { next }));
        }
    }
    best
}

/// The node for the rows in `orders` (the same rows, in each feature's order).
fn grow(columns: &[Vec<f64>], y: &[usize], k: usize, orders: Vec<Vec<u32>>, depth: usize, params: &TreeParams) -> Node {
    let Some(rows) = orders.first() else {
        return Node::Leaf { class: 0 };
    };
    let m = rows.len();
    let mut counts = vec![0u64; k];
    for &r in rows {
        counts[y[r as usize]] += 1;
    }
    let class = modal(&counts);
    let min_leaf = params.min_leaf.max(1);
    if depth >= params.max_depth || m < 2 * min_leaf || counts[class] as usize == m {
        return Node::Leaf { class };
    }
    // Minimising the weighted Gini impurity 1 - (sum_c l_c^2 / n_l + sum_c r_c^2 / n_r) / m is
    // maximising `purity` = sum_c l_c^2 / n_l + sum_c r_c^2 / n_r. The sums of squares are whole
    // numbers, updated exactly as each row moves from the right side to the left. Each feature's
    // best split is found on its own (in parallel); the first feature wins among equals, as a
    // search feature by feature that keeps only a strictly better split would choose.
    let per_feature: Vec<Option<(f64, f64)>> = columns
        .par_iter()
        .zip(orders.par_iter())
        .map(|(values, order)| best_split(values, order, y, &counts, min_leaf))
        .collect();
    let mut best: Option<(f64, usize, f64)> = None;
    for (j, split) in per_feature.into_iter().enumerate() {
        if let Some((purity, threshold)) = split
            && best.is_none_or(|(b, _, _)| purity > b)
        {
            best = Some((purity, j, threshold));
        }
    }
    let Some((purity, column, threshold)) = best else {
        return Node::Leaf { class };
    };
    let total_squares: u64 = counts.iter().map(|&c| c * c).sum();
    let decrease = (purity - total_squares as f64 / m as f64) / m as f64;
    if decrease < params.min_impurity_decrease {
        return Node::Leaf { class };
    }
    let split_on = &columns[column];
    let (left_orders, right_orders): (Vec<Vec<u32>>, Vec<Vec<u32>>) =
        orders.into_par_iter().map(|order| order.into_iter().partition(|&r| split_on[r as usize] < threshold)).unzip();
    let (left, right) = rayon::join(
        || grow(columns, y, k, left_orders, depth + 1, params),
        || grow(columns, y, k, right_orders, depth + 1, params),
    );
    match (&left, &right) {
        // Two leaves predicting the same class predict it for the whole node: one rule, not two.
        (Node::Leaf { class: a }, Node::Leaf { class: b }) if a == b => Node::Leaf { class: *a },
        _ => Node::Split { column, threshold, left: Box::new(left), right: Box::new(right) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn params(max_depth: usize) -> TreeParams {
        TreeParams { max_depth, min_leaf: 1, min_impurity_decrease: 1e-9 }
    }

    // The sequential fit this module had before its search went parallel, kept as the reference.
    fn reference_fit(x: ArrayView2<f64>, y: &[usize], k: usize, params: TreeParams) -> Node {
        // Each feature's rows in ascending order of its values, ties by row.
        let orders: Vec<Vec<u32>> = (0..x.ncols())
            .map(|j| {
                let mut order: Vec<u32> = (0..y.len() as u32).collect();
                order.sort_by(|&a, &b| x[[a as usize, j]].total_cmp(&x[[b as usize, j]]).then(a.cmp(&b)));
                order
            })
            .collect();
        reference_grow(x, y, k, orders, 0, &params)
    }

    /// The tree as it was grown before features were searched in parallel: one feature after
    /// another, one thread.
    fn reference_grow(
        x: ArrayView2<f64>,
        y: &[usize],
        k: usize,
        orders: Vec<Vec<u32>>,
        depth: usize,
        params: &TreeParams,
    ) -> Node {
        let Some(rows) = orders.first() else {
            return Node::Leaf { class: 0 };
        };
        let m = rows.len();
        let mut counts = vec![0u64; k];
        for &r in rows {
            counts[y[r as usize]] += 1;
        }
        let class = modal(&counts);
        let min_leaf = params.min_leaf.max(1);
        if depth >= params.max_depth || m < 2 * min_leaf || counts[class] as usize == m {
            return Node::Leaf { class };
        }
        // Minimising the weighted Gini impurity 1 - (sum_c l_c^2 / n_l + sum_c r_c^2 / n_r) / m is
        // maximising `purity` = sum_c l_c^2 / n_l + sum_c r_c^2 / n_r. The sums of squares are whole
        // numbers, updated exactly as each row moves from the right side to the left.
        let total_squares: u64 = counts.iter().map(|&c| c * c).sum();
        let mut best: Option<(f64, usize, f64)> = None;
        for (j, order) in orders.iter().enumerate() {
            let mut left = vec![0u64; k];
            let mut right = counts.clone();
            let (mut left_squares, mut right_squares) = (0u64, total_squares);
            for i in 0..m - 1 {
                let row = order[i] as usize;
                let c = y[row];
                right_squares -= 2 * right[c] - 1;
                right[c] -= 1;
                left_squares += 2 * left[c] + 1;
                left[c] += 1;
                let (value, next) = (x[[row, j]], x[[order[i + 1] as usize, j]]);
                let n_left = i + 1;
                if value == next || n_left < min_leaf || m - n_left < min_leaf {
                    continue;
                }
                let purity = left_squares as f64 / n_left as f64 + right_squares as f64 / (m - n_left) as f64;
                if best.is_none_or(|(b, _, _)| purity > b) {
                    // The midpoint, unless rounding puts it on the lower value (adjacent floats).
                    let mid = value + (next - value) / 2.0;
                    best = Some((purity, j, if mid > value { mid } else { next }));
                }
            }
        }
        let Some((purity, column, threshold)) = best else {
            return Node::Leaf { class };
        };
        let decrease = (purity - total_squares as f64 / m as f64) / m as f64;
        if decrease < params.min_impurity_decrease {
            return Node::Leaf { class };
        }
        let (mut left_orders, mut right_orders) = (Vec::with_capacity(orders.len()), Vec::with_capacity(orders.len()));
        for order in orders {
            let (l, r): (Vec<u32>, Vec<u32>) = order.into_iter().partition(|&r| x[[r as usize, column]] < threshold);
            left_orders.push(l);
            right_orders.push(r);
        }
        let left = reference_grow(x, y, k, left_orders, depth + 1, params);
        let right = reference_grow(x, y, k, right_orders, depth + 1, params);
        match (&left, &right) {
            // Two leaves predicting the same class predict it for the whole node: one rule, not two.
            (Node::Leaf { class: a }, Node::Leaf { class: b }) if a == b => Node::Leaf { class: *a },
            _ => Node::Split { column, threshold, left: Box::new(left), right: Box::new(right) },
        }
    }

    #[test]
    fn the_parallel_search_grows_the_sequential_tree_on_any_thread_count() {
        let mut rng = crate::engine::rng::SeededRng::new(7);
        for (n, d, k, depth) in [(3_000, 6, 5, 4), (500, 3, 3, 3), (2_000, 9, 8, 5)] {
            // Coarse values (many ties), both zeros and negatives; classes that follow the values.
            let x = Array2::from_shape_fn((n, d), |_| {
                let v = (rng.next_f64() * 40.0).floor() - 20.0;
                if v == 0.0 && rng.next_f64() < 0.5 { -0.0 } else { v }
            });
            let y: Vec<usize> = (0..n)
                .map(|r| ((x[[r, 0]] + 2.0 * x[[r, d - 1]] + 60.0) as usize + (rng.next_f64() * 3.0) as usize) % k)
                .collect();
            let p = TreeParams { max_depth: depth, min_leaf: 5, min_impurity_decrease: 1e-6 };
            let expected = reference_fit(x.view(), &y, k, p);
            assert!(matches!(expected, Node::Split { .. }), "the case grows no tree");
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                assert_eq!(pool.install(|| fit(x.view(), &y, k, p)), expected, "{threads} threads, n = {n}");
            }
        }
    }

    #[test]
    fn a_planted_split_is_found_at_the_midpoint() {
        let x = Array2::from_shape_vec((6, 1), vec![1.0, 2.0, 3.0, 10.0, 11.0, 12.0]).unwrap();
        let y = [0, 0, 0, 1, 1, 1];
        let tree = fit(x.view(), &y, 2, params(3));
        assert_eq!(
            tree,
            Node::Split {
                column: 0,
                threshold: 6.5,
                left: Box::new(Node::Leaf { class: 0 }),
                right: Box::new(Node::Leaf { class: 1 })
            }
        );
        assert_eq!((0..6).map(|r| tree.predict(x.view(), r)).collect::<Vec<_>>(), y);
    }

    #[test]
    fn ties_go_to_the_first_feature_and_the_lowest_class_on_every_run() {
        // Two identical features and four classes of equal size: every split ties.
        let n = 400;
        let x = Array2::from_shape_fn((n, 2), |(r, _)| (r / 10) as f64);
        let y: Vec<usize> = (0..n).map(|r| (r / 10) % 4).collect();
        let first = fit(x.view(), &y, 4, params(2));
        for _ in 0..5 {
            assert_eq!(fit(x.view(), &y, 4, params(2)), first);
        }
        fn columns(node: &Node, out: &mut Vec<usize>) {
            if let Node::Split { column, left, right, .. } = node {
                out.push(*column);
                columns(left, out);
                columns(right, out);
            }
        }
        let mut used = Vec::new();
        columns(&first, &mut used);
        assert!(!used.is_empty() && used.iter().all(|&c| c == 0), "{used:?}");
        assert_eq!(modal(&[3, 5, 5, 1]), 1);
        assert_eq!(modal(&[0, 0]), 0);
    }

    #[test]
    fn sibling_leaves_of_one_class_are_one_leaf() {
        // One customer of class 1 among nine of class 0: a split lowers the impurity, but both
        // sides still predict 0, so the node stays one leaf.
        let x = Array2::from_shape_vec((10, 1), (0..10).map(f64::from).collect()).unwrap();
        let y = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        let tree = fit(x.view(), &y, 2, TreeParams { max_depth: 1, min_leaf: 1, min_impurity_decrease: 0.0 });
        assert_eq!(tree, Node::Leaf { class: 0 });
    }

    #[test]
    fn leaves_keep_their_minimum_and_pure_nodes_are_not_split() {
        let x = Array2::from_shape_vec((5, 1), vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let y = [0, 1, 1, 1, 1];
        let tree = fit(x.view(), &y, 2, TreeParams { max_depth: 3, min_leaf: 2, min_impurity_decrease: 0.0 });
        // One customer of class 0 cannot have a leaf of its own when leaves hold at least two.
        let Node::Split { threshold, left, right, .. } = &tree else { panic!("{tree:?}") };
        assert_eq!(*threshold, 2.5);
        assert_eq!(**left, Node::Leaf { class: 0 }, "the tie of one and one goes to the lowest class");
        assert_eq!(**right, Node::Leaf { class: 1 });
        let pure = fit(x.view(), &[1; 5], 2, params(3));
        assert_eq!(pure, Node::Leaf { class: 1 });
    }
}
