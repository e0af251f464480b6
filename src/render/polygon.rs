//! Convex polygons in a plane (on screen, or across the sun's rays): their winding and their edge
//! functions, the one rule the exact pass and the sun's casters share.

use glam::DVec2;

/// Twice the signed area of the polygon with corners `corner(0..n)` (shoelace): positive when it
/// winds counter-clockwise.
pub fn winding(n: usize, corner: impl Fn(usize) -> DVec2) -> f64 {
    (0..n).map(|k| corner(k).perp_dot(corner((k + 1) % n))).sum()
}

/// Appends the edge functions `a·x + b·y + c` of the polygon with corners `corner(0..n)` and winding
/// `sign` ([`winding`]'s sign), positive on the side it winds around; with `unit`, each is the signed
/// distance to its edge's line.
pub fn push_edges(n: usize, corner: impl Fn(usize) -> DVec2, sign: f64, unit: bool, edges: &mut Vec<[f64; 3]>) {
    for k in 0..n {
        let (a, b) = (corner(k), corner((k + 1) % n));
        let d = if unit { (b - a).normalize_or_zero() } else { b - a };
        let (ea, eb) = (-d.y * sign, d.x * sign);
        edges.push([ea, eb, -(ea * a.x + eb * a.y)]);
    }
}
