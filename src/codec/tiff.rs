//! Depth maps as single-channel 32-bit float TIFF (`SampleFormat` IEEE float, uncompressed): lossless,
//! opened by Pillow as mode "F" and so read by numpy with `np.asarray(Image.open(path))`.

use tiff::encoder::{TiffEncoder, colortype};

/// `values` (row-major, `width × height`) as a float32 TIFF file.
pub fn tiff_f32(values: &[f32], width: u32, height: u32) -> Result<Vec<u8>, tiff::TiffError> {
    let mut out = std::io::Cursor::new(Vec::new());
    TiffEncoder::new(&mut out)?.write_image::<colortype::Gray32Float>(width, height, values)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_tiff_reads_back_bit_exact() {
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.37 - 1.0).collect();
        let bytes = tiff_f32(&values, 4, 3).unwrap();
        let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(d.dimensions().unwrap(), (4, 3));
        assert_eq!(d.colortype().unwrap(), tiff::ColorType::Gray(32));
        match d.read_image().unwrap() {
            tiff::decoder::DecodingResult::F32(v) => assert_eq!(v, values),
            _ => panic!("not float"),
        }
    }
}
