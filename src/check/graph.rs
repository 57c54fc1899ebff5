//! Graph metrics of the connectivity (CHECKS.md): `modularity` and `small_worldness`, on the
//! undirected graph of the top 10 % of `|W_rec|` (off-diagonal entries, symmetrised: an edge
//! where either direction is kept).
//!
//! Modularity is Newman's Q of the partition Louvain finds (local moves in a seeded order,
//! then aggregation, until no move raises Q). Small-worldness is Humphries' sigma,
//! `(C / C_rand) / (L / L_rand)`, on the largest connected component: C the mean local
//! clustering (0 for degree < 2), L the mean shortest path over reachable pairs (breadth-first
//! from every node up to 256 nodes, from 256 seeded sources above), the references the mean
//! over three seeded G(n, m) graphs of the same size and edge count.
//! Cost: the selection is O(N^2); Louvain O(m) per sweep; clustering O(m N / 64) with bitsets;
//! path lengths O(256 m).

use crate::rng::Rng;
use faer::Mat;

/// An undirected simple graph as sorted adjacency lists.
#[derive(Clone, Debug)]
pub struct Graph {
    pub adj: Vec<Vec<usize>>,
}

impl Graph {
    pub fn n(&self) -> usize {
        self.adj.len()
    }

    pub fn edges(&self) -> usize {
        self.adj.iter().map(Vec::len).sum::<usize>() / 2
    }

    fn from_pairs(n: usize, pairs: impl Iterator<Item = (usize, usize)>) -> Graph {
        let mut adj = vec![Vec::new(); n];
        for (i, j) in pairs {
            if i != j {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
        for a in &mut adj {
            a.sort_unstable();
            a.dedup();
        }
        Graph { adj }
    }
}

/// The top `fraction` of the off-diagonal `|w_ij|` (never a zero entry), symmetrised.
pub fn top_graph(w: &Mat<f64>, fraction: f64) -> Graph {
    let n = w.nrows();
    let mut mags: Vec<f64> = Vec::with_capacity(n * n.saturating_sub(1));
    for j in 0..n {
        for i in 0..n {
            if i != j {
                mags.push(w[(i, j)].abs());
            }
        }
    }
    let keep = ((fraction * mags.len() as f64).ceil() as usize).min(mags.len());
    if keep == 0 {
        return Graph::from_pairs(n, std::iter::empty());
    }
    let threshold = {
        let (_, nth, _) = mags.select_nth_unstable_by(keep - 1, |a, b| b.total_cmp(a));
        *nth
    };
    // Ties at the threshold are all kept: a graph cannot depend on the order of equal weights.
    let pairs = (0..n)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .filter(|&(i, j)| {
            let a = w[(i, j)].abs();
            i != j && a > 0.0 && a >= threshold
        });
    Graph::from_pairs(n, pairs)
}

/// Newman's modularity of the Louvain partition; 0 for a graph without edges.
pub fn modularity(g: &Graph, seed: u64) -> f64 {
    let n = g.n();
    if g.edges() == 0 {
        return 0.0;
    }
    let mut rng = Rng::new(seed, "modularity");
    // The current level: weighted adjacency (no self loops), self-loop weights, degrees.
    let mut adj: Vec<Vec<(usize, f64)>> = g
        .adj
        .iter()
        .map(|a| a.iter().map(|&j| (j, 1.0)).collect())
        .collect();
    let mut loops = vec![0.0; n];
    // Which level-node each original node belongs to.
    let mut member: Vec<usize> = (0..n).collect();
    let m2: f64 = adj.iter().flatten().map(|e| e.1).sum();
    loop {
        let size = adj.len();
        let k: Vec<f64> = (0..size)
            .map(|i| loops[i] + adj[i].iter().map(|e| e.1).sum::<f64>())
            .collect();
        let mut comm: Vec<usize> = (0..size).collect();
        let mut tot = k.clone();
        let mut order: Vec<usize> = (0..size).collect();
        rng.shuffle(&mut order);
        let mut moved_any = false;
        let mut w_to = vec![0.0; size];
        let mut touched = Vec::new();
        for _sweep in 0..100 {
            let mut moved = false;
            for &i in &order {
                let own = comm[i];
                tot[own] -= k[i];
                for &(j, w) in &adj[i] {
                    let c = comm[j];
                    if w_to[c] == 0.0 {
                        touched.push(c);
                    }
                    w_to[c] += w;
                }
                let gain = |c: usize, w_in: f64| w_in - tot[c] * k[i] / m2;
                let mut best = own;
                let mut best_gain = gain(own, w_to[own]);
                for &c in &touched {
                    let gc = gain(c, w_to[c]);
                    if gc > best_gain + 1e-12 {
                        best = c;
                        best_gain = gc;
                    }
                }
                for &c in &touched {
                    w_to[c] = 0.0;
                }
                touched.clear();
                tot[best] += k[i];
                if best != own {
                    comm[i] = best;
                    moved = true;
                    moved_any = true;
                }
            }
            if !moved {
                break;
            }
        }
        if !moved_any {
            break;
        }
        // Aggregate: one node per community.
        let mut label = vec![usize::MAX; size];
        let mut next = 0;
        for c in comm.iter_mut() {
            if label[*c] == usize::MAX {
                label[*c] = next;
                next += 1;
            }
            *c = label[*c];
        }
        let mut new_loops = vec![0.0; next];
        let mut maps: Vec<std::collections::HashMap<usize, f64>> =
            vec![std::collections::HashMap::new(); next];
        for i in 0..size {
            let ci = comm[i];
            new_loops[ci] += loops[i];
            for &(j, w) in &adj[i] {
                let cj = comm[j];
                if ci == cj {
                    new_loops[ci] += w;
                } else {
                    *maps[ci].entry(cj).or_insert(0.0) += w;
                }
            }
        }
        adj = maps
            .into_iter()
            .map(|m| {
                let mut v: Vec<(usize, f64)> = m.into_iter().collect();
                v.sort_unstable_by_key(|e| e.0);
                v
            })
            .collect();
        loops = new_loops;
        for m in &mut member {
            *m = comm[*m];
        }
        if next == size {
            break;
        }
    }
    newman_q(g, &member)
}

/// `Q = sum_c (in_c / 2m - (tot_c / 2m)^2)` of a partition of `g`.
pub fn newman_q(g: &Graph, member: &[usize]) -> f64 {
    let m2 = (2 * g.edges()) as f64;
    if m2 == 0.0 {
        return 0.0;
    }
    let c = member.iter().max().map_or(0, |m| m + 1);
    let mut inside = vec![0.0; c];
    let mut tot = vec![0.0; c];
    for (i, a) in g.adj.iter().enumerate() {
        tot[member[i]] += a.len() as f64;
        inside[member[i]] += a.iter().filter(|&&j| member[j] == member[i]).count() as f64;
    }
    inside
        .iter()
        .zip(&tot)
        .map(|(i, t)| i / m2 - (t / m2) * (t / m2))
        .sum()
}

/// The largest connected component, renumbered.
pub fn largest_component(g: &Graph) -> Graph {
    let n = g.n();
    let mut comp = vec![usize::MAX; n];
    let mut sizes = Vec::new();
    for s in 0..n {
        if comp[s] != usize::MAX {
            continue;
        }
        let id = sizes.len();
        let mut stack = vec![s];
        comp[s] = id;
        let mut size = 0;
        while let Some(v) = stack.pop() {
            size += 1;
            for &u in &g.adj[v] {
                if comp[u] == usize::MAX {
                    comp[u] = id;
                    stack.push(u);
                }
            }
        }
        sizes.push(size);
    }
    let Some(big) = (0..sizes.len()).max_by_key(|&c| sizes[c]) else {
        return Graph { adj: Vec::new() };
    };
    let mut index = vec![usize::MAX; n];
    let mut next = 0;
    for v in 0..n {
        if comp[v] == big {
            index[v] = next;
            next += 1;
        }
    }
    let adj = (0..n)
        .filter(|&v| comp[v] == big)
        .map(|v| g.adj[v].iter().map(|&u| index[u]).collect())
        .collect();
    Graph { adj }
}

/// Mean local clustering coefficient (0 for nodes of degree < 2).
pub fn clustering(g: &Graph) -> f64 {
    let n = g.n();
    if n == 0 {
        return 0.0;
    }
    let words = n.div_ceil(64);
    let mut bits = vec![0u64; n * words];
    for (i, a) in g.adj.iter().enumerate() {
        for &j in a {
            bits[i * words + j / 64] |= 1 << (j % 64);
        }
    }
    let mut sum = 0.0;
    for (i, a) in g.adj.iter().enumerate() {
        let k = a.len();
        if k < 2 {
            continue;
        }
        let bi = &bits[i * words..(i + 1) * words];
        let links: u64 = a
            .iter()
            .map(|&j| {
                let bj = &bits[j * words..(j + 1) * words];
                bi.iter()
                    .zip(bj)
                    .map(|(x, y)| (x & y).count_ones() as u64)
                    .sum::<u64>()
            })
            .sum();
        // Each link between two neighbours is seen from both ends.
        sum += links as f64 / (k * (k - 1)) as f64;
    }
    sum / n as f64
}

/// Mean shortest path length over reachable ordered pairs, breadth-first from every node (or
/// from `sources` seeded nodes when the graph is larger).
pub fn path_length(g: &Graph, sources: usize, rng: &mut Rng) -> f64 {
    let n = g.n();
    let mut from: Vec<usize> = (0..n).collect();
    if n > sources {
        rng.shuffle(&mut from);
        from.truncate(sources);
    }
    let mut dist = vec![usize::MAX; n];
    let mut queue = Vec::with_capacity(n);
    let (mut total, mut pairs) = (0u64, 0u64);
    for &s in &from {
        dist.iter_mut().for_each(|d| *d = usize::MAX);
        queue.clear();
        dist[s] = 0;
        queue.push(s);
        let mut head = 0;
        while head < queue.len() {
            let v = queue[head];
            head += 1;
            for &u in &g.adj[v] {
                if dist[u] == usize::MAX {
                    dist[u] = dist[v] + 1;
                    total += dist[u] as u64;
                    pairs += 1;
                    queue.push(u);
                }
            }
        }
    }
    if pairs == 0 {
        f64::NAN
    } else {
        total as f64 / pairs as f64
    }
}

/// A G(n, m) random graph: m distinct edges drawn uniformly.
pub fn random_graph(n: usize, m: usize, rng: &mut Rng) -> Graph {
    let possible = n * n.saturating_sub(1) / 2;
    let m = m.min(possible);
    let mut set = std::collections::HashSet::with_capacity(m);
    let mut pairs = Vec::with_capacity(m);
    while pairs.len() < m {
        let (a, b) = (rng.below(n), rng.below(n));
        if a == b {
            continue;
        }
        let e = (a.min(b), a.max(b));
        if set.insert(e) {
            pairs.push(e);
        }
    }
    Graph::from_pairs(n, pairs.into_iter())
}

/// Sources for the path-length estimate.
const SOURCES: usize = 256;

/// Humphries' small-world index `(C / C_rand) / (L / L_rand)` on the largest component.
pub fn small_worldness(g: &Graph, seed: u64) -> Result<f64, String> {
    let lcc = largest_component(g);
    let (n, m) = (lcc.n(), lcc.edges());
    if n < 3 || m < n {
        return Err(format!(
            "`small_worldness` needs a connected core with more edges than nodes (the top 10 % \
             of |W| leaves {n} nodes and {m} edges in the largest component)"
        ));
    }
    let mut rng = Rng::new(seed, "small_worldness");
    let c = clustering(&lcc);
    let l = path_length(&lcc, SOURCES, &mut rng);
    let (mut c_rand, mut l_rand) = (0.0, 0.0);
    const REFERENCES: usize = 3;
    for _ in 0..REFERENCES {
        let r = largest_component(&random_graph(n, m, &mut rng));
        c_rand += clustering(&r) / REFERENCES as f64;
        l_rand += path_length(&r, SOURCES, &mut rng) / REFERENCES as f64;
    }
    if c_rand <= 0.0 {
        return Err("`small_worldness`: the random reference graphs have no triangles".into());
    }
    Ok((c / c_rand) / (l / l_rand))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize, k: usize) -> Graph {
        Graph::from_pairs(
            n,
            (0..n).flat_map(move |i| (1..=k).map(move |d| (i, (i + d) % n))),
        )
    }

    #[test]
    fn clustering_and_paths_of_known_graphs() {
        // A complete graph: C = 1, L = 1.
        let full = Graph::from_pairs(6, (0..6).flat_map(|i| (0..6).map(move |j| (i, j))));
        assert_eq!(clustering(&full), 1.0);
        assert_eq!(path_length(&full, 256, &mut Rng::new(0, "t")), 1.0);
        // A ring lattice with k neighbours each side: C = 3(k-1) / (2(2k-1)).
        let r = ring(100, 4);
        assert!((clustering(&r) - 9.0 / 14.0).abs() < 1e-12);
        // A cycle of 10: mean distance 25/9 over the 9 others.
        let cycle = ring(10, 1);
        assert!((path_length(&cycle, 256, &mut Rng::new(0, "t")) - 25.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn louvain_finds_disjoint_cliques() {
        // Four disjoint 10-cliques joined in a ring by single edges: Q close to 3/4.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for b in 0..4 {
            for i in 0..10 {
                for j in 0..i {
                    pairs.push((10 * b + i, 10 * b + j));
                }
            }
            pairs.push((10 * b, (10 * b + 15) % 40));
        }
        let g = Graph::from_pairs(40, pairs.into_iter());
        let q = modularity(&g, 1);
        let blocks: Vec<usize> = (0..40).map(|i| i / 10).collect();
        assert!((q - newman_q(&g, &blocks)).abs() < 1e-12, "{q}");
        assert!(q > 0.7, "{q}");
    }
}
