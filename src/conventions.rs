//! The world conventions of the original Blender script, in one place.
//!
//! Everything pinsynth knows about where things are, how big they are, how a defect moves a terminal
//! and how a world point lands on a pixel is here, measured against Blender 3.4.1
//! (`../shared/blender-refs/README.md`). README.md repeats these rules for people; nothing else in the
//! crate restates them.
//!
//! * World: Z up, right-handed, Blender units.
//! * Terminal (x, y), x in 0..columns, y in 0..rows, is centred at
//!   `((x - (columns-1)/2)·pitch, (y - (rows-1)/2)·pitch, 0)` and spans z in [-1, 1].
//! * Square terminal: `primitive_cube_add(size=0.5)` + `resize((1,1,4))` → 0.5 × 0.5 × 2.
//!   Round terminal: `primitive_cylinder_add(radius=0.25)` → radius 0.25, height 2, 32 segments.
//!   Triangular terminal: `primitive_cylinder_add(vertices=3, radius=0.25)` → a prism of height 2 whose
//!   first corner is at local (0, 0.25): corners (0, 0.25), (±0.216506, -0.125); its local bounding box
//!   (Blender's `bound_box`) is x ±0.216506, y [-0.125, 0.25], so not centred on the origin.
//! * Instance-mask labels: 0 background, `1 + rows·x + y` for terminal (x, y), 255 housing.
//! * Defect (the original five `bpy.ops` calls, closed form):
//!   `M = T(p0 + dpos + (-sin gy, sin gx, 0)) · R_y(-gy) · R_x(-gx) · S`.
//! * Camera: Blender `sensor_fit = VERTICAL`: the vertical FOV is fixed whatever the aspect ratio.
//! * Pixels: origin at the top-left corner, u right, v down; pixel (i, j) covers [i, i+1) × [j, j+1).

use glam::{DMat3, DMat4, DVec2, DVec3};

/// Half the side of a square terminal's cross-section (cube of size 0.5).
pub const SQUARE_HALF_WIDTH: f64 = 0.25;
/// Radius of a round terminal.
pub const ROUND_RADIUS: f64 = 0.25;
/// Half the height of every terminal: they span z in [-1, 1] around their centre.
pub const PIN_HALF_HEIGHT: f64 = 1.0;
/// Segments of a round terminal (Blender's `primitive_cylinder_add` default).
pub const ROUND_SEGMENTS: u32 = 32;

/// Circumradius of a triangular terminal.
pub const TRIANGLE_RADIUS: f64 = 0.25;

/// The corners of a triangular terminal's cross-section on the unit circle, as Blender's
/// `primitive_cylinder_add(vertices=3)` places them: the first at (0, 1), then every 120°
/// counter-clockwise, `(-sin a, cos a)` at `a = 2πi / 3`.
pub fn triangle_ring() -> [(f64, f64); 3] {
    [0.0, 1.0, 2.0].map(|i: f64| {
        let a = std::f64::consts::TAU * i / 3.0;
        (-a.sin(), a.cos())
    })
}

/// The corners of the round terminal's polygon on the unit circle, `(cos a, sin a)` at
/// `a = 2πi / ROUND_SEGMENTS`: the cylinder mesh and the outline of a missing terminal use these.
pub fn round_ring() -> impl Iterator<Item = (f64, f64)> {
    (0..ROUND_SEGMENTS).map(|i| {
        let a = std::f64::consts::TAU * i as f64 / ROUND_SEGMENTS as f64;
        (a.cos(), a.sin())
    })
}

/// An enum whose variants have fixed names (in scene files, manifests, folder names and on the
/// command line). Each type writes its names once, in `name`; reading a name back and listing the
/// allowed ones derive from that.
pub trait Named: Copy + Sized + 'static {
    /// Every variant, in the order messages list them.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// The allowed names, comma separated.
    fn names() -> String {
        Self::ALL.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
    }
}

impl Named for PinKind {
    const ALL: &'static [PinKind] = &[PinKind::Square, PinKind::Round, PinKind::Triangle, PinKind::Mesh];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for DefectType {
    const ALL: &'static [DefectType] = &DefectType::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Whether `n` can name a file or folder of a dataset (a case name becomes `images/<name>.png`, the
/// MVTec category a folder): 1-128 letters, digits, `_`, `-`, `.`, not starting with `.`.
pub fn valid_file_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && !n.starts_with('.')
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The WebDataset key of an image id: WebDataset splits a member name at its first dot, so dots become
/// `_` (validation refuses two case names that would meet here).
pub fn wds_key(id: &str) -> String {
    id.replace('.', "_")
}

/// Rounds a manifest value to 1e-6 (px, scene units, colour): far below what matters, and keeps the
/// manifest readable and stable. Recorded values are the values used.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
/// Mask label of the housing.
pub const HOUSING_LABEL: u8 = 255;
/// Mask label of the background.
pub const BACKGROUND_LABEL: u8 = 0;
/// Largest number of terminal positions: labels 1..=254 are free for terminals.
pub const MAX_TERMINALS: u32 = 254;

/// The shape of a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinKind {
    /// A box, by default 0.5 × 0.5 × 2 (Blender cube).
    Square,
    /// A cylinder, by default radius 0.25, height 2, 32 flat-shaded segments.
    Round,
    /// A triangular prism, by default circumradius 0.25 and height 2, first corner at local (0, r).
    Triangle,
    /// A terminal from a mesh file, named by a pattern letter; its local origin is the terminal's centre.
    Mesh,
}

impl PinKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PinKind::Square => "square",
            PinKind::Round => "round",
            PinKind::Triangle => "triangle",
            PinKind::Mesh => "mesh",
        }
    }
}

/// The corners of a regular `n`-gon on the unit circle as Blender's `primitive_cylinder_add(vertices=n)`
/// places them: the first at (0, 1), then every 360°/n counter-clockwise, `(-sin a, cos a)` at
/// `a = 2πi / n` ([`triangle_ring`] for n = 3).
pub fn blender_ring(n: u32) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            (-a.sin(), a.cos())
        })
        .collect()
}

/// The original script's *mixed* rule: round if `x == 1 and y % 3 == 0`, or `x != 1 and (y + 1) % 3 == 0`.
pub fn mixed_kind(x: u32, y: u32) -> PinKind {
    if (x == 1 && y.is_multiple_of(3)) || (x != 1 && (y + 1).is_multiple_of(3)) {
        PinKind::Round
    } else {
        PinKind::Square
    }
}

/// Centre of terminal (x, y) before any defect: the grid is centred on the origin.
pub fn pin_centre(x: u32, y: u32, columns: u32, rows: u32, pitch: f64) -> DVec3 {
    DVec3::new((x as f64 - (columns as f64 - 1.0) / 2.0) * pitch, (y as f64 - (rows as f64 - 1.0) / 2.0) * pitch, 0.0)
}

/// Mask label of terminal (x, y): `1 + rows·x + y` (1 + 9x + y for the default 3 × 9 grid).
pub fn pin_label(x: u32, y: u32, rows: u32) -> u8 {
    let label = 1 + rows * x + y;
    debug_assert!(label <= MAX_TERMINALS, "validation keeps columns·rows <= 254");
    label as u8
}

/// World transform of a terminal's *rigid* part (the mesh already has its real size baked in), with
/// Blender's defect semantics: `T(p0 + dpos + (-sin gy, sin gx, 0)) · R_y(-gy) · R_x(-gx)`.
///
/// A positive `gx` tips the top toward +Y, a positive `gy` toward -X; the bottom-face centre's (x, y)
/// stays put (exactly for one angle, nearly for two).
pub fn pin_transform(p0: DVec3, dpos: DVec3, grad_deg: DVec2) -> DMat4 {
    let gx = grad_deg.x.to_radians();
    let gy = grad_deg.y.to_radians();
    let t = p0 + dpos + DVec3::new(-gy.sin(), gx.sin(), 0.0);
    DMat4::from_translation(t) * DMat4::from_rotation_y(-gy) * DMat4::from_rotation_x(-gx)
}

/// Top- and bottom-face centres of a default square or round terminal under `transform` (from
/// [`pin_transform`]): the local points (0, 0, ±1). Other shapes and sizes: `geometry::terminal`.
pub fn face_centres(transform: &DMat4) -> (DVec3, DVec3) {
    (
        transform.transform_point3(DVec3::new(0.0, 0.0, PIN_HALF_HEIGHT)),
        transform.transform_point3(DVec3::new(0.0, 0.0, -PIN_HALF_HEIGHT)),
    )
}

/// A bent terminal: the part of the terminal above `height` (scene units along its axis, measured
/// from its bottom face) turns by `angle_deg` about the horizontal axis through the axis point at that
/// height, so that its top moves toward `azimuth_deg` (0° = local +X, 90° = local +Y, counter-clockwise
/// seen from above). Local means the terminal's own frame, before its offset and tilt; for an upright
/// terminal that is the world's X and Y. A negative angle bends toward the opposite side.
///
/// The bend acts on the terminal's mesh: the mesh is cut by the plane at that height (the cut adds a
/// vertex row to every face it crosses) and the vertices strictly above the plane turn about the axis
/// (`geometry::bend`); the cut row stays. This is Blender's `bisect` at the height followed by a rotate
/// of the selected vertices above it (`tests/data/blender-geometry/bent.py`). The top keypoint is the
/// top-face centre turned the same way ([`Bend::apply`]); the bottom one does not move.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bend {
    pub height: f64,
    pub angle_deg: f64,
    pub azimuth_deg: f64,
}

impl Bend {
    /// The pivot in the terminal's local frame: on its axis (local x = y = 0, the object origin as in
    /// Blender's primitives), `height` above its bottom at local z = `bottom_z`.
    pub fn pivot(&self, bottom_z: f64) -> DVec3 {
        DVec3::new(0.0, 0.0, bottom_z + self.height)
    }

    /// The bend rotation: right-handed about the unit axis `(-sin az, cos az, 0)`, so a positive angle
    /// tips local +Z toward `(cos az, sin az, 0)`.
    pub fn rotation(&self) -> DMat3 {
        let az = self.azimuth_deg.to_radians();
        DMat3::from_axis_angle(DVec3::new(-az.sin(), az.cos(), 0.0), self.angle_deg.to_radians())
    }

    /// Where a local point of a terminal whose bottom is at local z = `bottom_z` goes: points strictly
    /// above the pivot's plane turn about the pivot, the others stay.
    pub fn apply(&self, p: DVec3, bottom_z: f64) -> DVec3 {
        let pivot = self.pivot(bottom_z);
        if p.z > pivot.z { pivot + self.rotation() * (p - pivot) } else { p }
    }
}

/// Top- and bottom-face centres of a terminal's local bounding box `(min, max)` under `transform`,
/// with an optional bend: the bend turns the top-face centre (see [`Bend`]); the bottom one never moves.
pub fn bent_face_centres((min, max): (DVec3, DVec3), transform: &DMat4, bend: Option<&Bend>) -> (DVec3, DVec3) {
    let c = (min + max) / 2.0;
    let top = DVec3::new(c.x, c.y, max.z);
    let top = bend.map_or(top, |b| b.apply(top, min.z));
    (transform.transform_point3(top), transform.transform_point3(DVec3::new(c.x, c.y, min.z)))
}

/// Blender's XYZ Euler rotation (degrees): X applied first, then Y, then Z.
pub fn euler_xyz_deg(deg: DVec3) -> DMat3 {
    DMat3::from_rotation_z(deg.z.to_radians())
        * DMat3::from_rotation_y(deg.y.to_radians())
        * DMat3::from_rotation_x(deg.x.to_radians())
}

/// Direction sunlight travels for a Blender sun with the given rotation: `R · (0, 0, -1)`.
pub fn sun_direction(rotation_deg: DVec3) -> DVec3 {
    euler_xyz_deg(rotation_deg) * DVec3::new(0.0, 0.0, -1.0)
}

/// A pinhole camera with Blender's conventions (vertical sensor fit, no shift) and the pixel grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// World → camera; the camera looks down its -Z axis, image up is its +Y.
    pub view: DMat4,
    /// Focal length in pixels, `(H/2) / tan(fov_y/2)`, the same for u and v (square pixels).
    pub focal_px: f64,
    pub width: u32,
    pub height: u32,
    pub near: f64,
    pub far: f64,
}

impl Camera {
    /// A camera at `eye` looking at `target`, rolled so that `up` points up in the image.
    /// `size` is (width, height) in pixels, `clip` the (near, far) distances.
    pub fn look_at(
        eye: DVec3,
        target: DVec3,
        up: DVec3,
        fov_y_deg: f64,
        (width, height): (u32, u32),
        (near, far): (f64, f64),
    ) -> Self {
        let back = (eye - target).normalize();
        let right = up.cross(back).normalize();
        let image_up = back.cross(right);
        let rotation = DMat3::from_cols(right, image_up, back);
        let camera_to_world = DMat4::from_translation(eye) * DMat4::from_mat3(rotation);
        Camera {
            view: camera_to_world.inverse(),
            focal_px: (height as f64 / 2.0) / (fov_y_deg.to_radians() / 2.0).tan(),
            width,
            height,
            near,
            far,
        }
    }

    /// Continuous pixel coordinates of a world point (top-left origin) and its depth in front of the
    /// camera: `u = W/2 + f·Xc/(-Zc)`, `v = H/2 - f·Yc/(-Zc)`.
    pub fn project(&self, p: DVec3) -> (DVec2, f64) {
        let c = self.view.transform_point3(p);
        let depth = -c.z;
        let u = self.width as f64 / 2.0 + self.focal_px * c.x / depth;
        let v = self.height as f64 / 2.0 - self.focal_px * c.y / depth;
        (DVec2::new(u, v), depth)
    }

    /// Clip-space matrix for wgpu (NDC y up, depth 0..1) that rasterises exactly what [`Camera::project`]
    /// computes: NDC x = 2u/W - 1, NDC y = 1 - 2v/H.
    pub fn clip_from_world(&self) -> DMat4 {
        let (w, h) = (self.width as f64, self.height as f64);
        let (n, f) = (self.near, self.far);
        let proj = DMat4::from_cols_array_2d(&[
            [2.0 * self.focal_px / w, 0.0, 0.0, 0.0],
            [0.0, 2.0 * self.focal_px / h, 0.0, 0.0],
            [0.0, 0.0, f / (n - f), -1.0],
            [0.0, 0.0, n * f / (n - f), 0.0],
        ]);
        proj * self.view
    }

    /// World position of the camera.
    pub fn position(&self) -> DVec3 {
        self.view.inverse().transform_point3(DVec3::ZERO)
    }
}

/// The kinds of NG image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DefectType {
    Offset,
    Tilt,
    OffsetTilt,
    Missing,
    /// A bent terminal ([`Bend`]), with or without an offset or tilt.
    Bent,
}

impl DefectType {
    /// In the order a random sweep's weights list them (new types go last: the draws of the others
    /// keep their meaning).
    pub const ALL: [DefectType; 5] =
        [DefectType::Offset, DefectType::Tilt, DefectType::OffsetTilt, DefectType::Missing, DefectType::Bent];

    pub fn as_str(self) -> &'static str {
        match self {
            DefectType::Offset => "offset",
            DefectType::Tilt => "tilt",
            DefectType::OffsetTilt => "offset_tilt",
            DefectType::Missing => "missing",
            DefectType::Bent => "bent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: DVec3, b: [f64; 3]) -> bool {
        (a - DVec3::from_array(b)).abs().max_element() < 1e-6
    }

    #[test]
    fn default_grid_centres_match_the_original() {
        assert_eq!(pin_centre(0, 0, 3, 9, 1.0), DVec3::new(-1.0, -4.0, 0.0));
        assert_eq!(pin_centre(2, 8, 3, 9, 1.0), DVec3::new(1.0, 4.0, 0.0));
        assert_eq!(pin_label(2, 8, 9), 27);
        assert_eq!(pin_label(0, 0, 9), 1);
    }

    #[test]
    fn mixed_rule_round_positions() {
        let round: Vec<(u32, u32)> = (0..3)
            .flat_map(|x| (0..9).map(move |y| (x, y)))
            .filter(|&(x, y)| mixed_kind(x, y) == PinKind::Round)
            .collect();
        assert_eq!(round, vec![(0, 2), (0, 5), (0, 8), (1, 0), (1, 3), (1, 6), (2, 2), (2, 5), (2, 8)]);
    }

    /// Blender: gradX=20 on pin (1,4) puts the top at (0, 0.68404, 0.939693), the bottom at (0, 0, -0.939693).
    #[test]
    fn positive_grad_x_tips_the_top_toward_plus_y() {
        let m = pin_transform(DVec3::ZERO, DVec3::ZERO, DVec2::new(20.0, 0.0));
        let (top, bottom) = face_centres(&m);
        assert!(close(top, [0.0, 0.68404, 0.939693]), "{top}");
        assert!(close(bottom, [0.0, 0.0, -0.939693]), "{bottom}");
    }

    /// Blender: gradY=20 on pin (1,4) puts the top at (-0.68404, 0, 0.939693).
    #[test]
    fn positive_grad_y_tips_the_top_toward_minus_x() {
        let m = pin_transform(DVec3::ZERO, DVec3::ZERO, DVec2::new(0.0, 20.0));
        let (top, bottom) = face_centres(&m);
        assert!(close(top, [-0.68404, 0.0, 0.939693]), "{top}");
        assert!(close(bottom, [0.0, 0.0, -0.939693]), "{bottom}");
    }

    /// Blender's README: with gX = gY = 20° the bottom x is off by sin gY·(cos gX − 1) = −0.0206.
    #[test]
    fn two_angles_move_the_bottom_slightly() {
        let m = pin_transform(DVec3::ZERO, DVec3::ZERO, DVec2::new(20.0, 20.0));
        let (_, bottom) = face_centres(&m);
        let expected = 20f64.to_radians().sin() * (20f64.to_radians().cos() - 1.0);
        assert!((bottom.x - expected).abs() < 1e-12 && (expected + 0.0206).abs() < 1e-4);
    }

    #[test]
    fn sun_direction_matches_blender() {
        let d = sun_direction(DVec3::new(30.0, 20.0, 0.0));
        assert!(close(d, [-0.2962, 0.5, -0.8138]) || (d - DVec3::new(-0.2962, 0.5, -0.8138)).length() < 1e-4, "{d}");
    }

    /// refs.json: f = 309.019326 px for 256², the principal point at the image centre.
    #[test]
    fn default_camera_intrinsics_match_blender() {
        let cam = Camera::look_at(DVec3::new(0.0, 0.0, 14.0), DVec3::ZERO, DVec3::Y, 45.0, (256, 256), (0.1, 100.0));
        assert!((cam.focal_px - 309.019326).abs() < 1e-5);
        let (px, depth) = cam.project(DVec3::new(-1.0, 0.68404, 0.939693));
        assert!((px - DVec2::new(104.33905, 111.814957)).abs().max_element() < 1e-4, "{px}");
        assert!((depth - 13.060308).abs() < 1e-6);
        // The clip matrix lands on the same pixel.
        let clip = cam.clip_from_world() * DVec3::new(-1.0, 0.68404, 0.939693).extend(1.0);
        let ndc = clip.truncate() / clip.w;
        let u = (ndc.x + 1.0) / 2.0 * 256.0;
        let v = (1.0 - ndc.y) / 2.0 * 256.0;
        assert!((DVec2::new(u, v) - px).abs().max_element() < 1e-9);
        assert!(ndc.z > 0.0 && ndc.z < 1.0);
    }
}
