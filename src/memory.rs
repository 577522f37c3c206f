//! Process-wide memory settings, applied once at start-up.

/// Caps glibc's malloc at two arenas unless the operator set
/// `MALLOC_ARENA_MAX` themselves.
///
/// glibc gives each thread that allocates under contention an arena of its
/// own, up to eight per core, and keeps their freed memory. keyward's database
/// work runs on a pool of blocking threads, so under load it collected one
/// arena per thread: `bench/soak` measured 64 MiB resident after a minute with
/// the default and 44 to 46 MiB with two arenas, at no cost in throughput.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before keyward starts any thread of its own.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
