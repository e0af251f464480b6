//! Whether an image file is complete and sound before anything is derived from it. Decoders are
//! lenient: image's JPEG decoder fills a file cut after its first few kB with grey and says nothing,
//! and a PNG cut after its pixel data decodes without its end chunk. So every file read for
//! augmentation is checked first:
//!
//! * PNG: the signature, then every chunk complete with a correct CRC, up to `IEND`;
//! * JPEG: the marker structure from start-of-image to end-of-image (`FF D9`), every segment complete
//!   and the entropy-coded data of every scan followed by a marker; then a decode in zune-jpeg's strict
//!   mode, which turns the warnings the lenient decode swallows (bad Huffman codes, premature end of
//!   data, unexpected markers) into errors.
//!
//! Bytes after the end chunk / end marker are allowed (some cameras pad files).

/// Checks `bytes` (sniffed: PNG or JPEG; anything else is left to the decoder). The error says what
/// is wrong, for a message that names the file.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(PNG_SIGNATURE) {
        check_png(bytes)
    } else if !bytes.is_empty() && PNG_SIGNATURE.starts_with(bytes) {
        Err(format!("truncated PNG: the file ends at byte {} inside the signature", bytes.len()))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        check_jpeg_structure(bytes)?;
        check_jpeg_decode(bytes)
    } else {
        Ok(())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn check_png(bytes: &[u8]) -> Result<(), String> {
    let mut i = PNG_SIGNATURE.len();
    loop {
        let Some(head) = bytes.get(i..i + 8) else {
            return Err(format!("truncated PNG: the file ends at byte {} before the IEND chunk", bytes.len()));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = String::from_utf8_lossy(&head[4..8]).into_owned();
        let end = (i + 12).checked_add(len).filter(|&e| e <= bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "truncated PNG: chunk {kind} at byte {i} needs {} bytes, the file ends at byte {}",
                len + 12,
                bytes.len()
            ));
        };
        let stored = u32::from_be_bytes([bytes[end - 4], bytes[end - 3], bytes[end - 2], bytes[end - 1]]);
        if crc32fast::hash(&bytes[i + 4..end - 4]) != stored {
            return Err(format!("corrupt PNG: chunk {kind} at byte {i} fails its CRC check"));
        }
        if kind == "IEND" {
            return Ok(());
        }
        i = end;
    }
}

fn check_jpeg_structure(bytes: &[u8]) -> Result<(), String> {
    let n = bytes.len();
    let truncated = |what: &str| {
        Err(format!("truncated JPEG: {what}, the file ends at byte {n} before the end-of-image marker (FF D9)"))
    };
    let mut i = 2;
    loop {
        if i >= n {
            return truncated("no further marker");
        }
        if bytes[i] != 0xFF {
            return Err(format!("corrupt JPEG: expected a marker at byte {i}, found {:#04x}", bytes[i]));
        }
        while i < n && bytes[i] == 0xFF {
            i += 1; // fill bytes
        }
        let Some(&marker) = bytes.get(i) else { return truncated("a marker is cut off") };
        i += 1;
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => continue, // no length
            0x00 => return Err(format!("corrupt JPEG: stray FF 00 at byte {}", i - 2)),
            _ => {}
        }
        let Some(len) = bytes.get(i..i + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else {
            return truncated(&format!("segment FF {marker:02X} at byte {} is cut off", i - 2));
        };
        if len < 2 {
            return Err(format!("corrupt JPEG: segment FF {marker:02X} at byte {} has length {len}", i - 2));
        }
        if i + len > n {
            return truncated(&format!("segment FF {marker:02X} at byte {} needs {len} bytes", i - 2));
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data: runs to the next marker that is neither a stuffed FF 00 nor a restart.
            loop {
                let Some(j) = bytes[i..].iter().position(|&b| b == 0xFF).map(|p| i + p) else {
                    return truncated("the scan data is cut off");
                };
                let mut k = j + 1;
                while k < n && bytes[k] == 0xFF {
                    k += 1;
                }
                match bytes.get(k) {
                    None => return truncated("the scan data is cut off"),
                    Some(0x00) | Some(0xD0..=0xD7) => i = k + 1,
                    Some(_) => {
                        i = j;
                        break;
                    }
                }
            }
        }
    }
}

fn check_jpeg_decode(bytes: &[u8]) -> Result<(), String> {
    let options = zune_core::options::DecoderOptions::default().set_strict_mode(true);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(bytes), options);
    decoder.decode().map(|_| ()).map_err(|e| format!("corrupt JPEG: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{DynamicImage, ImageEncoder, RgbImage};

    fn photo() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(160, 120, |x, y| {
            image::Rgb([(x * 3) as u8, (y * 5) as u8, (x ^ y) as u8])
        }))
    }

    fn jpeg() -> Vec<u8> {
        let mut buf = Vec::new();
        let img = photo();
        JpegEncoder::new_with_quality(&mut buf, 90)
            .write_image(img.as_bytes(), 160, 120, image::ExtendedColorType::Rgb8)
            .unwrap();
        buf
    }

    fn png() -> Vec<u8> {
        let mut buf = Vec::new();
        photo().write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png).unwrap();
        buf
    }

    #[test]
    fn whole_files_pass_and_cut_ones_fail_at_every_length() {
        for bytes in [jpeg(), png()] {
            assert_eq!(check(&bytes), Ok(()));
            let mut padded = bytes.clone();
            padded.extend_from_slice(&[0; 100]);
            assert_eq!(check(&padded), Ok(()), "bytes after the end are allowed");
            for cut in (3..bytes.len()).step_by(7) {
                assert!(check(&bytes[..cut]).is_err(), "cut at {cut} of {} passed", bytes.len());
            }
        }
    }

    #[test]
    fn flipped_bits_inside_a_png_fail_the_crc() {
        let mut bytes = png();
        let k = bytes.len() / 2;
        bytes[k] ^= 0x10;
        let e = check(&bytes).unwrap_err();
        assert!(
            e.starts_with("corrupt PNG: chunk IDAT at byte 33 fails its CRC check") || e.contains("fails its CRC"),
            "{e}"
        );
    }
}
