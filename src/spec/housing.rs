//! Housing presets: `[housing] shape = "box"` (the seed's box) or `"shroud"`, a shrouded header:
//! the box as its base with walls standing on the base's rim around the terminal field, and an
//! optional keying notch (a gap through one wall).

use super::schema::{Problems, Section};
use crate::conventions::Named;
use serde::Serialize;

/// Which side of the shroud a keying notch cuts through, named by the wall's outward direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NotchSide {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "-x")]
    MinusX,
    #[serde(rename = "+x")]
    PlusX,
    #[serde(rename = "-y")]
    MinusY,
    #[serde(rename = "+y")]
    PlusY,
}

impl Named for NotchSide {
    const ALL: &'static [NotchSide] =
        &[NotchSide::None, NotchSide::MinusX, NotchSide::PlusX, NotchSide::MinusY, NotchSide::PlusY];
    fn name(self) -> &'static str {
        match self {
            NotchSide::None => "none",
            NotchSide::MinusX => "-x",
            NotchSide::PlusX => "+x",
            NotchSide::MinusY => "-y",
            NotchSide::PlusY => "+y",
        }
    }
}

/// A shroud's walls (all in scene units).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Shroud {
    /// How far the walls rise above the base's top face.
    pub wall_height: f64,
    /// Wall thickness, inward from the base's outer edge.
    pub wall_thickness: f64,
    pub notch: NotchSide,
    /// Width of the notch, centred on its wall (through the wall's full height).
    pub notch_width: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HousingShape {
    Box,
    Shroud(Shroud),
}

/// Defaults of the shroud keys.
pub const SHROUD_WALL_HEIGHT: f64 = 1.0;
pub const SHROUD_WALL_THICKNESS: f64 = 0.25;
pub const SHROUD_NOTCH_WIDTH: f64 = 1.0;

/// Reads `shape` and, for a shroud, its wall and notch keys; `size` is the base box (already read).
pub(super) fn read_shape(s: &mut Section<'_>, size: [f64; 3], has_mesh: bool, p: &mut Problems) -> HousingShape {
    let shroud = s.choice("shape", false, &[("box", false), ("shroud", true)], p);
    let keys = ["wall_height", "wall_thickness", "notch", "notch_width"];
    if !shroud || has_mesh {
        if shroud {
            p.invalid(s.key_path("shape"), "\"shroud\"", "not with housing.mesh (the mesh file is the whole housing)");
        }
        for key in keys {
            if let Some(v) = s.get(key) {
                p.invalid(s.key_path(key), super::schema::show(v), "only with housing.shape = \"shroud\"");
            }
        }
        return HousingShape::Box;
    }
    let wall_height = s.f64("wall_height", SHROUD_WALL_HEIGHT, 0.01, 100.0, p);
    // Two walls must leave room inside the base.
    let max_thickness = size[0].min(size[1]) / 2.0;
    let wall_thickness = s.f64("wall_thickness", SHROUD_WALL_THICKNESS, 0.001, max_thickness, p);
    let notch = s.named("notch", NotchSide::None, p);
    let notch_width = if notch == NotchSide::None {
        if let Some(v) = s.get("notch_width") {
            p.invalid(s.key_path("notch_width"), super::schema::show(v), "only with a notch (notch = \"-x\", …)");
        }
        SHROUD_NOTCH_WIDTH
    } else {
        // The gap lies between the two walls that cross the notched one.
        let along = match notch {
            NotchSide::MinusX | NotchSide::PlusX => size[1],
            _ => size[0],
        };
        s.f64("notch_width", SHROUD_NOTCH_WIDTH, 0.001, along - 2.0 * wall_thickness, p)
    };
    HousingShape::Shroud(Shroud { wall_height, wall_thickness, notch, notch_width })
}
