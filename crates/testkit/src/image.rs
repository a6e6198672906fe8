//! Images built in code.
