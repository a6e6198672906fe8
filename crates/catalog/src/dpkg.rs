//! dpkg parser (to be written).
