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

/// Andrew's monotone chain: the convex hull of `pts`, each corner once, counter-clockwise (in pixel
/// coordinates, v down: clockwise as seen).
pub fn convex_hull(mut pts: Vec<DVec2>) -> Vec<DVec2> {
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: DVec2, a: DVec2, b: DVec2| (a - o).perp_dot(b - o);
    let mut hull: Vec<DVec2> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &DVec2>> =
            if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convex_hull_drops_inner_and_collinear_points() {
        let p = |x: f64, y: f64| DVec2::new(x, y);
        let hull = convex_hull(vec![p(0.0, 0.0), p(2.0, 0.0), p(1.0, 0.0), p(1.0, 1.0), p(2.0, 2.0), p(0.0, 2.0)]);
        assert_eq!(hull, vec![p(0.0, 0.0), p(2.0, 0.0), p(2.0, 2.0), p(0.0, 2.0)]);
    }
}
