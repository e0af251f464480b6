//! Grid sweeps: image `i` is one combination of terminal × defect type × axis values × repeat, decoded
//! from the index alone (terminal outermost, repeat innermost, the last axis fastest).

use super::Defect;
use crate::conventions::{Bend, DefectType};
use crate::spec::{Grid, Scene};

/// The defect of grid image `i`, or None when its combination moves nothing (an OK image).
pub fn grid_defect(scene: &Scene, grid: &Grid, i: u64) -> Option<Defect> {
    let pins = grid.pins.candidates(&scene.layout);
    let per_pin = grid.per_pin().unwrap_or(1).max(1); // validation bounds the product
    let pin = pins[((i / per_pin) as usize).min(pins.len() - 1)];
    let mut r = (i % per_pin) / grid.repeat;
    for &t in &grid.types {
        let n = grid.type_size(t);
        if r >= n {
            r -= n;
            continue;
        }
        let (mut dpos, mut grad) = ([0.0; 3], [0.0; 2]);
        let dpos_axes = [&grid.dpos_x, &grid.dpos_y, &grid.dpos_z];
        let grad_axes = [&grid.grad_x, &grid.grad_y];
        let (uses_dpos, uses_grad) = match t {
            DefectType::Offset => (true, false),
            DefectType::Tilt => (false, true),
            DefectType::OffsetTilt => (true, true),
            DefectType::Missing | DefectType::Bent => (false, false),
        };
        if t == DefectType::Bent {
            // Height, angle, azimuth; the azimuth fastest. An angle of 0 bends nothing: an OK image.
            let axes = grid.bend.as_ref()?; // validation: present when types has bent
            let mut v = [0.0; 3];
            for (k, axis) in [&axes.bend_height, &axes.bend_angle_deg, &axes.bend_azimuth_deg].iter().enumerate().rev()
            {
                v[k] = axis[(r % axis.len() as u64) as usize];
                r /= axis.len() as u64;
            }
            if v[1] == 0.0 {
                return None;
            }
            let kind = scene.layout.kind_at(pin[0], pin[1])?;
            let bend = Bend { height: v[0], angle_deg: v[1], azimuth_deg: v[2] };
            return Some(Defect { pin, kind, dpos, grad, missing: false, bend: Some(bend) });
        }
        // Mixed radix, last axis fastest: walk the axes from the last.
        if uses_grad {
            for (k, axis) in grad_axes.iter().enumerate().rev() {
                grad[k] = axis[(r % axis.len() as u64) as usize];
                r /= axis.len() as u64;
            }
        }
        if uses_dpos {
            for (k, axis) in dpos_axes.iter().enumerate().rev() {
                dpos[k] = axis[(r % axis.len() as u64) as usize];
                r /= axis.len() as u64;
            }
        }
        let missing = t == DefectType::Missing;
        if !missing && dpos.iter().chain(grad.iter()).all(|v| *v == 0.0) {
            return None;
        }
        let kind = scene.layout.kind_at(pin[0], pin[1])?;
        return Some(Defect { pin, kind, dpos, grad, missing, bend: None });
    }
    None
}
