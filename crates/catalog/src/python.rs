//! python parser (to be written).
