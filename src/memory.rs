//! Process-wide memory settings, applied once at start-up.

/// Tunes glibc's malloc, unless the operator set the matching `MALLOC_*`
/// variable themselves:
///
/// - **At most two arenas.** glibc gives each thread that allocates under
///   contention an arena of its own, up to eight per core, and keeps their
///   freed memory. keyward's database work runs on a pool of blocking
///   threads, so under load it collected one arena per thread: `bench/soak`
///   measured 64 MiB resident after a minute with the default and 44 to
///   46 MiB with two arenas, at no cost in throughput.
/// - **Blocks of 1 MiB and more are mapped, and unmapped when freed.** By
///   default glibc raises that threshold to the largest block freed so far,
///   up to 32 MiB, so after the first password hash every argon2 block
///   (19 MiB) came from the heap and stayed resident: `bench/abuse` left
///   keyward at 2 GiB after a burst of sign-ins.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before keyward starts any thread of its own.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        }
    }
}
