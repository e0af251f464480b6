//! The shroud housing preset as boxes: the base (the `[housing]` box), two walls along y on its
//! x edges over its full length, two walls along x between them, each `wall_thickness` thick, from the
//! base's top face up by `wall_height`; a keying notch removes a `notch_width` gap, centred, from the
//! full height of one wall (that wall becomes two boxes). Boxes touch but do not overlap.

use crate::spec::{NotchSide, Shroud};
use glam::DVec3;

/// An axis-aligned box: centre and half extents.
pub type AaBox = (DVec3, DVec3);

fn from_corners(lo: DVec3, hi: DVec3) -> AaBox {
    ((lo + hi) / 2.0, (hi - lo) / 2.0)
}

/// The boxes of a shroud with base `size` centred at `center`, base first.
pub fn boxes(size: DVec3, center: DVec3, s: &Shroud) -> Vec<AaBox> {
    let half = size / 2.0;
    let (lo, hi) = (center - half, center + half);
    let (z0, z1) = (hi.z, hi.z + s.wall_height);
    let t = s.wall_thickness;
    let mut out = vec![(center, half)];
    // Each wall as (low corner, high corner, the axis it runs along, its side).
    let walls = [
        (DVec3::new(lo.x, lo.y, z0), DVec3::new(lo.x + t, hi.y, z1), 1, NotchSide::MinusX),
        (DVec3::new(hi.x - t, lo.y, z0), DVec3::new(hi.x, hi.y, z1), 1, NotchSide::PlusX),
        (DVec3::new(lo.x + t, lo.y, z0), DVec3::new(hi.x - t, lo.y + t, z1), 0, NotchSide::MinusY),
        (DVec3::new(lo.x + t, hi.y - t, z0), DVec3::new(hi.x - t, hi.y, z1), 0, NotchSide::PlusY),
    ];
    for (a, b, axis, side) in walls {
        if side != s.notch {
            out.push(from_corners(a, b));
            continue;
        }
        // The gap is centred on the base's centre line along the wall.
        let mid = center[axis];
        let (g0, g1) = (mid - s.notch_width / 2.0, mid + s.notch_width / 2.0);
        let mut first_hi = b;
        first_hi[axis] = g0;
        let mut second_lo = a;
        second_lo[axis] = g1;
        if first_hi[axis] > a[axis] {
            out.push(from_corners(a, first_hi));
        }
        if b[axis] > second_lo[axis] {
            out.push(from_corners(second_lo, b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shroud_walls_stand_on_the_base_rim_and_the_notch_is_a_gap() {
        let s = Shroud { wall_height: 1.0, wall_thickness: 0.25, notch: NotchSide::PlusY, notch_width: 1.0 };
        let b = boxes(DVec3::new(3.5, 9.5, 0.5), DVec3::new(0.0, 0.0, -1.0), &s);
        assert_eq!(b.len(), 1 + 3 + 2);
        assert_eq!(b[0], (DVec3::new(0.0, 0.0, -1.0), DVec3::new(1.75, 4.75, 0.25)));
        // -x wall: x in [-1.75, -1.5], full length, z from the base top -0.75 to 0.25.
        assert_eq!(b[1], (DVec3::new(-1.625, 0.0, -0.25), DVec3::new(0.125, 4.75, 0.5)));
        // The +y wall is split around x in [-0.5, 0.5].
        let (l, r) = (b[4], b[5]);
        assert_eq!((l.0.x + l.1.x, r.0.x - r.1.x), (-0.5, 0.5));
        assert_eq!((l.0.x - l.1.x, r.0.x + r.1.x), (-1.5, 1.5));
        assert_eq!(l.0.y + l.1.y, 4.75);
        let no_notch = Shroud { notch: NotchSide::None, ..s };
        assert_eq!(boxes(DVec3::new(3.5, 9.5, 0.5), DVec3::new(0.0, 0.0, -1.0), &no_notch).len(), 5);
    }
}
