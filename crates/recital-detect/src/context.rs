//! Context exemption: output tokens that repeat text the caller supplied (the
//! prompt, retrieved documents) are not the model's recitation and are not
//! flagged.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

/// For each output token, whether it lies inside a run of at least `k` tokens
/// that also occurs, in the same order, in the context.
pub fn exempt_mask<S: AsRef<str>, T: AsRef<str>>(output: &[S], context: &[T], k: usize) -> Vec<bool> {
    let k = k.max(1);
    let mut mask = vec![false; output.len()];
    if context.len() < k || output.len() < k {
        return mask;
    }
    let state = foldhash_state();
    let gram = |toks: &mut dyn Iterator<Item = &str>| {
        let mut h = state.build_hasher();
        for t in toks {
            t.hash(&mut h);
        }
        h.finish()
    };
    let mut grams: HashMap<u64, Vec<usize>> = HashMap::new();
    for i in 0..=context.len() - k {
        let h = gram(&mut context[i..i + k].iter().map(|t| t.as_ref()));
        grams.entry(h).or_default().push(i);
    }
    for l in 0..=output.len() - k {
        let h = gram(&mut output[l..l + k].iter().map(|t| t.as_ref()));
        if let Some(pos) = grams.get(&h) {
            let same = pos.iter().any(|&p| (0..k).all(|j| context[p + j].as_ref() == output[l + j].as_ref()));
            if same {
                mask[l..l + k].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    mask
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
