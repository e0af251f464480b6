//! PNG encoding of rendered images and masks that reuses the rows of an image encoded before.
//!
//! The bytes are exactly those `image`'s `PngEncoder` writes with `CompressionType::Fast` and
//! `FilterType::Paeth` (tested byte for byte): the png crate filters each row with Paeth and hands it
//! to fdeflate's `Compressor::write_data` on its own, and fdeflate codes a row with one fixed Huffman
//! code, its runs of zeros ending with the row. So a row's bits depend on its own filtered bytes
//! alone; only where they start in the stream moves. An image that equals an encoded one
//! ([`Encoded`]) outside a band of rows ([`Rows`]) is then encoded by copying the other rows' bits
//! (shifted to where they now start), coding the band's rows, and combining the checksums: the band
//! alone is filtered and coded.
//!
//! fdeflate's code is not public, so its tables are repeated here ([`LENGTHS`], [`HEADER`], from
//! fdeflate 0.3.7, MIT or Apache-2.0); the tests compare every byte with the png crate's output, so
//! a change there shows.

use image::ImageError;
use std::ops::Range;

/// fdeflate 0.3.7's Huffman code lengths for literals 0–255, end of block (256) and lengths 257–285.
#[rustfmt::skip]
const LENGTHS: [u8; 286] = [
    2, 3, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10,
    10, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 10, 11, 10, 10, 10, 10, 10, 10, 10, 10, 10, 9, 9, 9, 9, 9, 8, 9, 8, 8, 8, 8, 8, 7,
    7, 7, 6, 6, 6, 5, 4, 3, 12, 12, 12, 9, 9, 11, 10, 11, 11, 10, 11, 11, 11, 11, 11, 11, 12, 11,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 9,
];

/// fdeflate 0.3.7's stream header: the zlib header and the dynamic block's code, 53 bytes and 5 bits.
#[rustfmt::skip]
const HEADER: [u8; 54] = [
    120, 1, 237, 192, 3, 160, 36, 89, 150, 198, 241, 255, 119, 238, 141, 200, 204, 167,
    114, 75, 99, 174, 109, 219, 182, 109, 219, 182, 109, 219, 182, 109, 105, 140, 158, 150,
    74, 175, 158, 50, 51, 34, 238, 249, 118, 183, 106, 122, 166, 135, 59, 107, 213, 15,
];

/// The canonical codes of [`LENGTHS`], bit-reversed as deflate writes them.
const CODES: [u16; 286] = {
    let mut codes = [0u16; 286];
    let mut code = 0u32;
    let mut len = 1;
    while len <= 16 {
        let mut i = 0;
        while i < 286 {
            if LENGTHS[i] == len {
                codes[i] = (code as u16).reverse_bits() >> (16 - len);
                code += 1;
            }
            i += 1;
        }
        code <<= 1;
        len += 1;
    }
    codes
};

/// Deflate's length symbol (257–285) and its extra bits for a match of length 3–258.
const fn length_code(len: u32) -> (usize, u8) {
    const BASE: [u32; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ];
    const EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    let mut s = 28;
    while BASE[s] > len {
        s -= 1;
    }
    (257 + s, EXTRA[s])
}

/// Bits written least significant first, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    buffer: u64,
    count: u32,
}

impl Bits {
    fn new(out: Vec<u8>) -> Bits {
        Bits { out, buffer: 0, count: 0 }
    }

    /// Bits written so far (from the start of `out`).
    fn len(&self) -> u64 {
        self.out.len() as u64 * 8 + u64::from(self.count)
    }

    /// The low `n` (at most 64) bits of `bits`, which has no others set.
    #[inline(always)]
    fn put(&mut self, bits: u64, n: u32) {
        self.buffer |= bits << self.count;
        self.count += n;
        if self.count >= 64 {
            self.out.extend_from_slice(&self.buffer.to_le_bytes());
            self.count -= 64;
            self.buffer = bits.checked_shr(n - self.count).unwrap_or(0);
        }
    }

    /// Bits `from..to` of `src` (a stream written as these are).
    fn copy(&mut self, src: &[u8], from: u64, to: u64) {
        let mut at = from;
        while at < to {
            let n = (to - at).min(56) as u32;
            let byte = (at / 8) as usize;
            let word = match src.get(byte..byte + 8) {
                Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")), // ok: a slice of 8
                None => {
                    let mut w = [0u8; 8];
                    w[..src.len() - byte].copy_from_slice(&src[byte..]);
                    u64::from_le_bytes(w)
                }
            };
            self.put((word >> (at % 8)) & ((1u64 << n) - 1), n);
            at += u64::from(n);
        }
    }

    /// Pads with zeros to a whole byte and returns the bytes.
    fn finish(mut self) -> Vec<u8> {
        let bytes = self.count.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.buffer.to_le_bytes()[..bytes]);
        self.out
    }
}

/// The code of literal `b` and its length.
#[inline(always)]
fn literal(b: u8) -> (u64, u32) {
    (u64::from(CODES[b as usize]), u32::from(LENGTHS[b as usize]))
}

/// Four literals as one piece of at most 48 bits.
#[inline(always)]
fn four(bytes: &[u8]) -> (u64, u32) {
    let (mut bits, mut n) = (0u64, 0u32);
    for &b in bytes {
        let (c, l) = literal(b);
        bits |= c << n;
        n += l;
    }
    (bits, n)
}

/// A run of `run` zeros: a zero, then the rest as copies of the byte before (distance 1, coded in
/// the length's extra bits' spare bit).
fn zeros(bits: &mut Bits, run: u32) {
    let (c, l) = literal(0);
    bits.put(c, l);
    let mut run = run - 1;
    while run >= 258 {
        bits.put(u64::from(CODES[285]), u32::from(LENGTHS[285]) + 1);
        run -= 258;
    }
    if run > 4 {
        let (sym, extra) = length_code(run);
        bits.put(u64::from(CODES[sym]), u32::from(LENGTHS[sym]));
        bits.put(u64::from((run - 3) & ((1 << extra) - 1)), u32::from(extra) + 1);
    } else {
        bits.put(0, run * l);
    }
}

/// One row's filtered bytes (its filter type first) as fdeflate's `write_data` codes them.
fn code_row(bits: &mut Bits, data: &[u8]) {
    let mut run = 0u32;
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes")); // ok: chunks_exact(8)
        if word == 0 {
            run += 8;
            continue;
        } else if run > 0 {
            let more = word.trailing_zeros() / 8;
            zeros(bits, run + more);
            run = 0;
            if more > 0 {
                run = word.leading_zeros() / 8;
                for &b in &chunk[more as usize..8 - run as usize] {
                    let (c, l) = literal(b);
                    bits.put(c, l);
                }
                continue;
            }
        }
        let trailing = word.leading_zeros() / 8;
        if trailing > 0 {
            for &b in &chunk[..8 - trailing as usize] {
                let (c, l) = literal(b);
                bits.put(c, l);
            }
            run = trailing;
            continue;
        }
        let (c, l) = four(&chunk[..4]);
        bits.put(c, l);
        let (c, l) = four(&chunk[4..]);
        bits.put(c, l);
    }
    if run > 0 {
        zeros(bits, run);
    }
    for &b in chunks.remainder() {
        let (c, l) = literal(b);
        bits.put(c, l);
    }
}

/// Row `line` filtered with Paeth against the row above (`prev`; zeros above the first row), `bpp`
/// bytes a pixel, into `out` after the filter type (4).
fn paeth(prev: Option<&[u8]>, line: &[u8], bpp: usize, out: &mut Vec<u8>) {
    out.clear();
    out.resize(line.len() + 1, 0);
    out[0] = 4;
    let o = &mut out[1..];
    let bpp = bpp.min(line.len());
    match prev {
        // Nothing above: the left neighbour predicts.
        None => {
            o[..bpp].copy_from_slice(&line[..bpp]);
            for i in bpp..line.len() {
                o[i] = line[i].wrapping_sub(line[i - bpp]);
            }
        }
        Some(p) => {
            for i in 0..bpp {
                o[i] = line[i].wrapping_sub(p[i]);
            }
            for i in bpp..line.len() {
                let (a, b, c) = (i16::from(line[i - bpp]), i16::from(p[i]), i16::from(p[i - bpp]));
                let (pa, pb, pc) = ((b - c).abs(), (a - c).abs(), (a + b - 2 * c).abs());
                let predicted = if pa <= pb && pa <= pc {
                    a
                } else if pb <= pc {
                    b
                } else {
                    c
                };
                o[i] = line[i].wrapping_sub(predicted as u8);
            }
        }
    }
}

/// Filters (Paeth) and codes the pixel rows `rows` of `pixels` (`stride` bytes a row, `bpp` a pixel)
/// into `bits`; `each` gets, row by row, where the row's bits start and its filtered bytes' Adler-32.
fn code_rows(
    bits: &mut Bits,
    pixels: &[u8],
    stride: usize,
    bpp: usize,
    rows: Range<usize>,
    mut each: impl FnMut(u64, u32),
) {
    let mut filtered = Vec::with_capacity(stride + 1);
    for y in rows {
        let prev = y.checked_sub(1).map(|p| &pixels[p * stride..(p + 1) * stride]);
        paeth(prev, &pixels[y * stride..(y + 1) * stride], bpp, &mut filtered);
        let start = bits.len();
        code_row(bits, &filtered);
        each(start, adler(&filtered));
    }
}

/// Adler-32 of `a` followed by `len_b` bytes whose Adler-32 is `b` (zlib's `adler32_combine`).
fn adler_combine(a: u32, b: u32, len_b: u64) -> u32 {
    const MOD: u64 = 65521;
    let rem = len_b % MOD;
    let (a1, a2) = (u64::from(a & 0xffff), u64::from(a >> 16));
    let (b1, b2) = (u64::from(b & 0xffff), u64::from(b >> 16));
    let sum1 = (a1 + b1 + MOD - 1) % MOD;
    let sum2 = (rem * a1 % MOD + a2 + b2 + MOD - rem) % MOD;
    (sum1 | (sum2 << 16)) as u32
}

fn adler(data: &[u8]) -> u32 {
    let mut a = simd_adler32::Adler32::new();
    a.write(data);
    a.finish()
}

/// An encoded image and where its rows' bits lie, for encoding images like it ([`Encoded::like`]).
pub struct Encoded {
    /// The PNG file.
    pub png: Vec<u8>,
    /// Whether the png crate would store this image's rows uncompressed (fdeflate's stream would be
    /// longer); then no rows are kept.
    stored: bool,
    width: u32,
    height: u32,
    bpp: usize,
    /// Where the compressed stream starts in `png`, and its length.
    zlib: Range<usize>,
    /// Where each row's bits start in the stream, and (last) where the rows end.
    row_bits: Vec<u64>,
    /// Adler-32 of the filtered rows before each row (`prefix[r]`: rows `0..r`) and from it on.
    prefix: Vec<u32>,
    suffix: Vec<u32>,
}

/// What changed in an image like an encoded one: its rows `rows` (`y0..y1`, pixel rows).
pub type Rows = Range<u32>;

impl Encoded {
    /// Encodes `pixels` (`bpp` bytes a pixel: 3 for RGB8, 1 for grey), keeping where its rows lie.
    pub fn new(pixels: &[u8], width: u32, height: u32, bpp: usize) -> Result<Encoded, ImageError> {
        let stride = width as usize * bpp;
        let mut bits = Bits::new(Vec::with_capacity(pixels.len() / 4 + 64));
        bits.out.extend_from_slice(&HEADER[..53]);
        bits.put(u64::from(HEADER[53]), 5);
        let (mut row_bits, mut row_adler) = (Vec::with_capacity(height as usize + 1), Vec::new());
        code_rows(&mut bits, pixels, stride, bpp, 0..height as usize, |start, a| {
            row_bits.push(start);
            row_adler.push(a);
        });
        row_bits.push(bits.len());
        let row_len = (stride + 1) as u64;
        let mut prefix = vec![1u32];
        for &a in &row_adler {
            prefix.push(adler_combine(*prefix.last().expect("starts with one"), a, row_len)); // ok: pushed above
        }
        let mut suffix = vec![1u32; row_adler.len() + 1];
        for r in (0..row_adler.len()).rev() {
            let rest = (row_adler.len() - r - 1) as u64 * row_len;
            suffix[r] = adler_combine(row_adler[r], suffix[r + 1], rest);
        }
        let checksum = prefix[row_adler.len()];
        let zlib = finish_stream(bits, checksum);
        if too_long(&zlib, stride, height) {
            let png = stored(pixels, width, height, bpp)?;
            return Ok(Encoded { png, stored: true, width, height, bpp, zlib: 0..0, row_bits, prefix, suffix });
        }
        let (png, range) = container(width, height, bpp, &zlib);
        Ok(Encoded { png, stored: false, width, height, bpp, zlib: range, row_bits, prefix, suffix })
    }

    /// The PNG file of `pixels`, which equal this image's outside the pixel rows `rows`: the bytes
    /// [`Encoded::new`] gives them, made by coding only those rows (and the next, whose filter
    /// reads them).
    pub fn like(&self, pixels: &[u8], rows: Rows) -> Result<Vec<u8>, ImageError> {
        let (h, stride) = (self.height as usize, self.width as usize * self.bpp);
        debug_assert_eq!(pixels.len(), h * stride);
        let a = (rows.start as usize).min(h);
        let b = ((rows.end as usize).saturating_add(1)).min(h).max(a);
        if a == b {
            return Ok(self.png.clone());
        }
        if self.stored {
            return Ok(Encoded::new(pixels, self.width, self.height, self.bpp)?.png);
        }
        let zlib = &self.png[self.zlib.clone()];
        let mut bits = Bits::new(Vec::with_capacity(zlib.len() + 64));
        let start = self.row_bits[a];
        bits.out.extend_from_slice(&zlib[..(start / 8) as usize]);
        bits.copy(zlib, start / 8 * 8, start);
        let mut band = 1u32;
        code_rows(&mut bits, pixels, stride, self.bpp, a..b, |_, a| {
            band = adler_combine(band, a, (stride + 1) as u64);
        });
        bits.copy(zlib, self.row_bits[b], self.row_bits[h]);
        let row_len = (stride + 1) as u64;
        let checksum = adler_combine(
            adler_combine(self.prefix[a], band, (b - a) as u64 * row_len),
            self.suffix[b],
            (h - b) as u64 * row_len,
        );
        let zlib = finish_stream(bits, checksum);
        if too_long(&zlib, stride, self.height) {
            return stored(pixels, self.width, self.height, self.bpp);
        }
        Ok(container(self.width, self.height, self.bpp, &zlib).0)
    }
}

/// Whether the png crate would store the rows uncompressed instead of `zlib`: when fdeflate's stream
/// is longer than fdeflate's stored stream (`StoredOnlyCompressor::compressed_size`) of the filtered
/// rows.
fn too_long(zlib: &[u8], stride: usize, height: u32) -> bool {
    let raw = (stride + 1) * height as usize;
    let max = u16::MAX as usize;
    zlib.len() > (raw.saturating_sub(1) / max) * (max + 5) + (raw % max + 5) + 6
}

/// The png crate's own encoding (which stores the rows).
fn stored(pixels: &[u8], width: u32, height: u32, bpp: usize) -> Result<Vec<u8>, ImageError> {
    let color = if bpp == 3 { image::ExtendedColorType::Rgb8 } else { image::ExtendedColorType::L8 };
    super::encode(pixels, width, height, color)
}

/// Ends the rows' stream: the end-of-block code, padding, the Adler-32.
fn finish_stream(mut bits: Bits, checksum: u32) -> Vec<u8> {
    bits.put(u64::from(CODES[256]), u32::from(LENGTHS[256]));
    let mut zlib = bits.finish();
    zlib.extend_from_slice(&checksum.to_be_bytes());
    zlib
}

/// The PNG file around the compressed stream `zlib` (signature, IHDR, one IDAT, IEND), and where the
/// stream lies in it.
fn container(width: u32, height: u32, bpp: usize, zlib: &[u8]) -> (Vec<u8>, Range<usize>) {
    let mut png = Vec::with_capacity(zlib.len() + 64);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let chunk = |png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let at = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32fast::hash(&png[at..]);
        png.extend_from_slice(&crc.to_be_bytes());
    };
    let color = if bpp == 3 { 2 } else { 0 };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, color, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let start = png.len() + 8;
    chunk(&mut png, b"IDAT", zlib);
    chunk(&mut png, b"IEND", &[]);
    (png, start..start + zlib.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(pixels: &[u8], w: u32, h: u32, bpp: usize) -> Vec<u8> {
        if bpp == 3 {
            crate::codec::png_rgb(pixels, w, h).unwrap()
        } else {
            crate::codec::png_gray(pixels, w, h).unwrap()
        }
    }

    /// Pseudo-random images with flat areas (long runs of zeros once filtered), noise and edges.
    fn image(seed: u64, w: u32, h: u32, bpp: usize) -> Vec<u8> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let (bx, by, bw) = (next() % u64::from(w), next() % u64::from(h), 1 + next() % 40);
        let mut out = Vec::with_capacity((w * h) as usize * bpp);
        for y in 0..h {
            for x in 0..w {
                let inside = (u64::from(x) - bx.min(u64::from(x))) < bw && (u64::from(y) - by.min(u64::from(y))) < bw;
                for c in 0..bpp {
                    let v = if inside {
                        (next() % 256) as u8
                    } else if y % 17 == 3 {
                        (x as u8).wrapping_mul(3).wrapping_add(c as u8)
                    } else {
                        40 + c as u8
                    };
                    out.push(v);
                }
            }
        }
        out
    }

    #[test]
    fn encodes_the_bytes_of_the_png_crate() {
        for (seed, (w, h, bpp)) in
            [(224, 224, 3), (224, 224, 1), (37, 23, 3), (1, 1, 1), (300, 7, 1), (9, 300, 3)].into_iter().enumerate()
        {
            let px = image(seed as u64, w, h, bpp);
            assert!(
                Encoded::new(&px, w, h, bpp).unwrap().png == reference(&px, w, h, bpp),
                "{w}×{h}, {bpp} bytes a pixel"
            );
            let flat = vec![0u8; (w * h) as usize * bpp];
            assert!(Encoded::new(&flat, w, h, bpp).unwrap().png == reference(&flat, w, h, bpp), "{w}×{h} of zeros");
        }
    }

    #[test]
    fn an_image_like_another_gets_the_bytes_of_encoding_it_whole() {
        let (w, h) = (96u32, 80u32);
        for bpp in [1, 3] {
            let base = image(7, w, h, bpp);
            let encoded = Encoded::new(&base, w, h, bpp).unwrap();
            for (k, rows) in [0..1, 0..80, 10..11, 10..30, 79..80, 40..40, 5..70].into_iter().enumerate() {
                let mut px = base.clone();
                let changed = image(100 + k as u64, w, h, bpp);
                let stride = w as usize * bpp;
                for y in rows.clone() {
                    let r = y as usize * stride..(y as usize + 1) * stride;
                    px[r.clone()].copy_from_slice(&changed[r]);
                }
                let whole = reference(&px, w, h, bpp);
                assert!(encoded.like(&px, rows.clone()).unwrap() == whole, "rows {rows:?}, {bpp} bytes a pixel");
            }
        }
    }
}
