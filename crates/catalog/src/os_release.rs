//! os_release parser (to be written).
