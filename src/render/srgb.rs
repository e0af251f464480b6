//! sRGB ↔ linear light for the CPU passes that blend read-back pixels (FXAA, exact coverage): the
//! standard sRGB transfer function (IEC 61966-2-1), as the GPU applies it when it writes an
//! `Rgba8UnormSrgb` target, and tables for both directions.

/// An sRGB byte as linear light in [0, 1].
pub fn to_linear(v: u8) -> f32 {
    let c = v as f32 / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// Linear light (clamped to [0, 1]) as the nearest sRGB byte.
pub fn to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let s = if c <= 0.0031308 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0 + 0.5) as u8
}

/// Both directions as tables: every byte's linear value, and linear [0, 1] in `STEPS` steps → byte.
pub struct Tables<const STEPS: usize> {
    pub to_linear: [f32; 256],
    to_srgb: Vec<u8>,
}

impl<const STEPS: usize> Tables<STEPS> {
    pub fn new() -> Tables<STEPS> {
        Tables {
            to_linear: std::array::from_fn(|i| to_linear(i as u8)),
            to_srgb: (0..STEPS).map(|i| to_srgb(i as f32 / (STEPS - 1) as f32)).collect(),
        }
    }

    /// Linear light → sRGB byte through the table (nearest step).
    pub fn encode(&self, c: f32) -> u8 {
        self.to_srgb[(c.clamp(0.0, 1.0) * (STEPS - 1) as f32 + 0.5) as usize]
    }
}

impl<const STEPS: usize> Default for Tables<STEPS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_every_byte() {
        let t = Tables::<4096>::new();
        let fine = Tables::<65536>::new();
        for v in 0..=255u8 {
            assert_eq!(t.encode(t.to_linear[v as usize]), v);
            assert_eq!(fine.encode(fine.to_linear[v as usize]), v);
            assert_eq!(to_srgb(to_linear(v)), v);
        }
    }
}
