//! Placeholder for the order benchmarks (criterion), written by another engineer.

fn main() {}
