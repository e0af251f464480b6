//! COCO run-length encoding of binary masks, as pycocotools' `maskApi.c` defines it: runs over the
//! pixels in column-major order (down each column, columns left to right), alternating 0 and 1 and
//! starting with a (possibly empty) run of 0s; the compressed string form (`rleToString`) stores each
//! count, from the third on as the difference to the count two before, in 5-bit groups (low first)
//! with a continuation bit (0x20), each group + 48 as one ASCII character.

/// Run lengths of the pixels of a `width × height` row-major mask where `inside(value)` holds.
pub fn encode_counts(mask: &[u8], width: u32, height: u32, inside: impl Fn(u8) -> bool) -> Vec<u64> {
    let (w, h) = (width as usize, height as usize);
    let mut counts = Vec::new();
    let mut current = false;
    let mut run = 0u64;
    for x in 0..w {
        for y in 0..h {
            let v = inside(mask[y * w + x]);
            if v != current {
                counts.push(run);
                run = 0;
                current = v;
            }
            run += 1;
        }
    }
    counts.push(run);
    counts
}

/// Run lengths of a `width × height` mask that is 0 outside the box of `box_width` columns from
/// (`x0`, `y0`) and `box_mask` (row-major, one byte per pixel, non-zero = inside) within it: the same
/// counts as [`encode_counts`] of the whole mask, without making it.
pub fn encode_counts_in_box(
    box_mask: &[u8],
    (x0, y0, box_width): (u32, u32, u32),
    width: u32,
    height: u32,
) -> Vec<u64> {
    let (bw, bh) = (box_width as usize, box_mask.len() / box_width.max(1) as usize);
    if bw == 0 || bh == 0 {
        return vec![width as u64 * height as u64];
    }
    let mut counts = Vec::new();
    let mut current = false;
    // Everything before the box's first pixel (whole columns, then rows above it) is 0.
    let mut run = x0 as u64 * height as u64 + y0 as u64;
    for x in 0..bw {
        for y in 0..bh {
            let v = box_mask[y * bw + x] != 0;
            if v != current {
                counts.push(run);
                run = 0;
                current = v;
            }
            run += 1;
        }
        // Below the box in this column (and above it in the next one, if any): 0.
        let below = height as u64 - y0 as u64 - bh as u64;
        let gap = if x + 1 < bw { below + y0 as u64 } else { below };
        if gap > 0 {
            if current {
                counts.push(run);
                run = 0;
                current = false;
            }
            run += gap;
        }
    }
    // Columns after the box.
    let after = (width as u64 - x0 as u64 - bw as u64) * height as u64;
    if after > 0 {
        if current {
            counts.push(run);
            run = 0;
        }
        run += after;
    }
    counts.push(run);
    counts
}

/// The compressed string of `counts` (pycocotools `rleToString`).
pub fn counts_to_string(counts: &[u64]) -> String {
    let mut s = String::new();
    for (i, &c) in counts.iter().enumerate() {
        let mut x = c as i64;
        if i > 2 {
            x -= counts[i - 2] as i64;
        }
        loop {
            let mut c = (x & 0x1f) as u8;
            x >>= 5;
            let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                c |= 0x20;
            }
            s.push((c + 48) as char);
            if !more {
                break;
            }
        }
    }
    s
}

/// Errors decoding a compressed RLE string.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RleError {
    #[error("character {0:?} at {1} is outside the RLE alphabet")]
    BadChar(char, usize),
    #[error("the string ends inside a count")]
    Truncated,
    #[error("a run length is negative")]
    Negative,
}

/// Counts from a compressed string (pycocotools `rleFrString`).
pub fn counts_from_string(s: &str) -> Result<Vec<u64>, RleError> {
    let mut counts: Vec<i64> = Vec::new();
    let bytes = s.as_bytes();
    let mut p = 0;
    while p < bytes.len() {
        let mut x: i64 = 0;
        let mut k = 0;
        loop {
            let Some(&b) = bytes.get(p) else { return Err(RleError::Truncated) };
            if !(48..48 + 64).contains(&b) {
                return Err(RleError::BadChar(b as char, p));
            }
            let c = (b - 48) as i64;
            x |= (c & 0x1f) << (5 * k);
            p += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
                break;
            }
        }
        if counts.len() > 2 {
            x += counts[counts.len() - 2];
        }
        if x < 0 {
            return Err(RleError::Negative);
        }
        counts.push(x);
    }
    Ok(counts.into_iter().map(|c| c as u64).collect())
}

/// A binary mask (row-major, 0/1) from counts.
pub fn decode_counts(counts: &[u64], width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u8; w * h];
    let mut i = 0usize;
    for (k, &c) in counts.iter().enumerate() {
        for j in i..(i + c as usize).min(w * h) {
            if k % 2 == 1 {
                out[(j % h) * w + j / h] = 1;
            }
        }
        i += c as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_mask() {
        // 3 wide, 2 high:      column-major: (0,0)=0 (0,1)=1 | (1,0)=1 (1,1)=1 | (2,0)=0 (2,1)=0
        #[rustfmt::skip]
        let mask = [
            0, 5, 0,
            5, 5, 0,
        ];
        let counts = encode_counts(&mask, 3, 2, |v| v == 5);
        assert_eq!(counts, vec![1, 3, 2]);
        // 1 → '1', 3 → '3', 2 → '2' (the first three are stored as they are).
        assert_eq!(counts_to_string(&counts), "132");
        assert_eq!(decode_counts(&counts, 3, 2), vec![0, 1, 0, 1, 1, 0]);
    }

    #[test]
    fn string_form_matches_pycocotools() {
        // Worked by hand from maskApi.c: 40 = 0b01000 + 1·32 → groups 8 (+0x20 → 40+48 = 'X'), 1 → '1';
        // the 4th count 3 is stored as 3 - counts[1] = 3 - 40 = -37 → low group 27 (sign bit 0x10 set,
        // rest -2 ≠ -1 → more) → (27|32)+48 = 'k', then -2 & 0x1f = 30 (sign bit set, rest -1 → stop) → 'N'.
        let counts = [0, 40, 5, 3];
        let s = counts_to_string(&counts);
        assert_eq!(s, "0X15kN");
        assert_eq!(counts_from_string(&s).unwrap(), counts);
        assert_eq!(counts_from_string("0X1"), Ok(vec![0, 40]));
        assert_eq!(counts_from_string("0X"), Err(RleError::Truncated));
        assert!(matches!(counts_from_string("0 "), Err(RleError::BadChar(' ', 1))));
    }

    #[test]
    fn round_trip_on_pseudo_random_masks() {
        let mut state = 0x1234_5678_9abc_def0u64;
        for (w, h) in [(1, 1), (7, 5), (96, 96), (160, 128), (33, 1)] {
            for density in [0u64, 3, 50, 97, 100] {
                let mask: Vec<u8> = (0..w * h)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        u8::from((state >> 33) % 100 < density)
                    })
                    .collect();
                let counts = encode_counts(&mask, w, h, |v| v == 1);
                assert_eq!(counts.iter().sum::<u64>(), (w * h) as u64);
                assert_eq!(decode_counts(&counts, w, h), mask, "{w}x{h} at {density} %");
                let s = counts_to_string(&counts);
                assert_eq!(counts_from_string(&s).unwrap(), counts, "{w}x{h} at {density} %");
            }
        }
    }

    #[test]
    fn counts_in_a_box_equal_the_whole_mask_counts() {
        let (w, h) = (7u32, 5u32);
        let mut seed = 12345u64;
        for (x0, y0, bw, bh) in [(0, 0, 7, 5), (2, 1, 3, 2), (6, 4, 1, 1), (0, 3, 2, 2), (4, 0, 3, 5), (1, 1, 0, 0)] {
            for _ in 0..20 {
                let box_mask: Vec<u8> = (0..bw * bh)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 62) as u8 & 1
                    })
                    .collect();
                let mut full = vec![0u8; (w * h) as usize];
                for y in 0..bh {
                    for x in 0..bw {
                        full[((y0 + y) * w + x0 + x) as usize] = box_mask[(y * bw + x) as usize];
                    }
                }
                let want = encode_counts(&full, w, h, |v| v != 0);
                assert_eq!(encode_counts_in_box(&box_mask, (x0, y0, bw), w, h), want, "box {x0} {y0} {bw} {bh}");
            }
        }
    }
}
