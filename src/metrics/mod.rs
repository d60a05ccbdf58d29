//! Request metrics through the `metrics` facade.
