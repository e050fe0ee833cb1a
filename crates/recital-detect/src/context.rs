//! Context exemption: output tokens that repeat text the caller supplied (the
//! prompt, retrieved documents) are not the model's recitation and are not
//! flagged.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// For each output token, whether it lies inside a run of at least `k` tokens
/// that also occurs, in the same order, in the context.
pub fn exempt_mask<S: AsRef<str>, T: AsRef<str>>(output: &[S], context: &[T], k: usize) -> Vec<bool> {
    ContextGrams::new(context, k).mask(output)
}

/// The `k`-token runs of a context, hashed: built once, asked for many
/// outputs (a stream's successive windows share their prompt).
pub struct ContextGrams {
    k: usize,
    tokens: Vec<String>,
    grams: HashMap<u64, Vec<usize>>,
    state: std::collections::hash_map::RandomState,
}

impl ContextGrams {
    /// Indexes the `k`-token runs of `context` (`k` at least 1).
    pub fn new<T: AsRef<str>>(context: &[T], k: usize) -> Self {
        let k = k.max(1);
        let tokens: Vec<String> = context.iter().map(|t| t.as_ref().to_string()).collect();
        let state = foldhash_state();
        let mut grams: HashMap<u64, Vec<usize>> = HashMap::new();
        if tokens.len() >= k {
            let th = token_hashes(&state, &tokens);
            for i in 0..=tokens.len() - k {
                grams.entry(gram(&th[i..i + k])).or_default().push(i);
            }
        }
        Self { k, tokens, grams, state }
    }

    /// For each output token, whether it lies inside a run of at least `k`
    /// tokens that also occurs, in the same order, in the context.
    pub fn mask<S: AsRef<str>>(&self, output: &[S]) -> Vec<bool> {
        let k = self.k;
        let mut mask = vec![false; output.len()];
        if self.tokens.len() < k || output.len() < k {
            return mask;
        }
        let th = token_hashes(&self.state, output);
        for l in 0..=output.len() - k {
            if let Some(pos) = self.grams.get(&gram(&th[l..l + k])) {
                let same = pos.iter().any(|&p| (0..k).all(|j| self.tokens[p + j] == output[l + j].as_ref()));
                if same {
                    mask[l..l + k].iter_mut().for_each(|m| *m = true);
                }
            }
        }
        mask
    }
}

/// One hash per token (each token hashed once, not once per run it is in).
fn token_hashes<S: AsRef<str>>(state: &std::collections::hash_map::RandomState, toks: &[S]) -> Vec<u64> {
    toks.iter().map(|t| state.hash_one(t.as_ref())).collect()
}

/// A run's hash from its tokens' (collisions are checked token by token).
fn gram(th: &[u64]) -> u64 {
    th.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &t| (h ^ t).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29))
}

fn foldhash_state() -> std::collections::hash_map::RandomState {
    std::collections::hash_map::RandomState::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_runs_shared_with_the_context() {
        let out: Vec<&str> = "a b c d e f g h".split(' ').collect();
        let ctx: Vec<&str> = "x c d e f y a b".split(' ').collect();
        let m = exempt_mask(&out, &ctx, 3);
        assert_eq!(m, vec![false, false, true, true, true, true, false, false]);
        assert_eq!(exempt_mask(&out, &ctx, 2), vec![true, true, true, true, true, true, false, false]);
        assert!(exempt_mask(&out, &Vec::<&str>::new(), 1).iter().all(|x| !x));
    }
}
