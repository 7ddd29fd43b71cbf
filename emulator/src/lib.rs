//! ARM emulator (see issue 3).
