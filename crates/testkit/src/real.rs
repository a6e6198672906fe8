//! Real files from package registries, cached.
