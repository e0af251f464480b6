//! `augment run` on a plain image folder: every image gets its copies (or as many as `--balance`
//! needs), mirrored under OUT; the test split is never augmented.

use super::balance::{BalanceItem, balance_copies};
use super::io::{
    RunOptions, Summary, finish, in_test_split, list_images, prepare_out, read_image, variant_path, write_file,
    write_image,
};
use super::{AugmentError, Augmenter, Sample, apply_ops};
use crate::progress::Progress;
use crate::seed::path_stream;
use rayon::prelude::*;
use std::path::Path;

/// Augments every image of the folder `input`.
pub(crate) fn run(
    input: &Path,
    aug: &Augmenter,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<Summary, AugmentError> {
    let files = list_images(input)?;
    prepare_out(input, &opts.out, opts.overwrite)?;
    let copies: Vec<u32> = match &opts.balance {
        Some(b) => balance_copies(&files.iter().map(|rel| folder_item(rel)).collect::<Vec<_>>(), b),
        None => files.iter().map(|rel| if in_test_split(rel) { 0 } else { opts.copies }).collect(),
    };
    progress.start(files.len() as u64, "augment");
    let results: Vec<Result<(usize, usize), AugmentError>> = files
        .par_iter()
        .zip(copies.par_iter())
        .map(|(rel, &n)| {
            let r = augment_file(input, rel, n, aug, opts);
            progress.advance(1);
            r
        })
        .collect();
    finish(files.iter().map(|rel| input.join(rel)), results, opts.strict, false)
}

fn augment_file(
    input: &Path,
    rel: &str,
    copies: u32,
    aug: &Augmenter,
    opts: &RunOptions,
) -> Result<(usize, usize), AugmentError> {
    let src = input.join(rel);
    let (bytes, image) = read_image(&src)?;
    let mut written = 0;
    for k in 1..=copies {
        let mut rng = path_stream(opts.seed, rel, "aug", k);
        let ops = aug.draw(&mut rng, image.width(), image.height());
        let out = apply_ops(&ops, Sample::new(image.clone()))?;
        write_image(&out.image, &opts.out.join(variant_path(rel, &format!("_aug{k:03}"), opts.format)), opts)?;
        written += 1;
    }
    let copied = if opts.originals { write_file(&opts.out.join(rel), &bytes).map(|()| 1)? } else { 0 };
    Ok((written, copied))
}

fn folder_item(rel: &str) -> BalanceItem {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop(); // file name
    let class = parts.pop().unwrap_or("").to_string();
    BalanceItem { group: parts.join("/"), class, test: in_test_split(rel) }
}
