//! The one way the library reports progress: a render, a merge and an augmentation all call a
//! [`Progress`]; the command line shows it as a bar, a library user may ignore it ([`Quiet`]).

/// Told about progress. `advance` may be called from several threads.
pub trait Progress: Sync {
    /// Work of `total` items starts; `what` says on what (the GPU adapter of a render, `merge`, …).
    fn start(&self, _total: u64, _what: &str) {}
    /// `n` more items are done.
    fn advance(&self, _n: u64) {}
}

/// Progress that says nothing.
pub struct Quiet;
impl Progress for Quiet {}
