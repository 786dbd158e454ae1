//! Seeded datasets.
