//! Password hashing in turn. argon2id is meant to be slow and takes 19 MiB
//! per hash; run on request threads, a flood of sign-ins took every core and
//! gigabytes of memory, and held database connections while it did. Hashes
//! therefore run here: on threads of their own, at a low priority, as many
//! as there are cores less one, each caller waiting for a [`Turn`].

/// How many password hashes may run at once: one core is left for
/// everything else (verification, the console), so a flood of sign-ins
/// queues here instead of taking every core and, at 19 MiB of argon2 memory
/// per hash, gigabytes of memory. At least one.
fn concurrent_hashes() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that hash passwords, and the semaphore that hands out turns.
struct Hashers {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
    turns: tokio::sync::Semaphore,
}

/// Hashing runs on threads of its own at a low priority (nice 10), so that
/// when the cores are busy, verifications and console pages come first and
/// sign-ins wait: a gatekeeper must keep answering under a sign-in flood.
fn hashers() -> &'static Hashers {
    static HASHERS: std::sync::OnceLock<Hashers> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let count = concurrent_hashes();
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..count {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keyward-hash-{i}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                log::error!("cannot start a password hashing thread: {e}");
            }
        }
        Hashers {
            jobs: std::sync::Mutex::new(jobs),
            turns: tokio::sync::Semaphore::new(count),
        }
    })
}

fn lower_this_threads_priority() {
    // On Linux the nice value belongs to the thread (its task id).
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority changes only the scheduling priority of this thread.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) != 0 {
            log::debug!("could not lower the hashing thread's priority");
        }
    }
}

/// Runs `work` on a hashing thread.
async fn on_hashing_thread<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> anyhow::Result<R> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    hashers()
        .jobs
        .lock()
        .map_err(|_| anyhow::anyhow!("the password hashing queue is poisoned"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("no password hashing thread is running"))?;
    result
        .await
        .map_err(|_| anyhow::anyhow!("a password hashing thread stopped"))
}

/// A turn to hash: while it is held, [`Turn::run`] runs work on a hashing
/// thread. Waiting for a turn holds no thread and no database connection, so
/// a caller can do the database work that belongs with a hash (a throttle
/// check before, a count after) inside its turn.
pub struct Turn(#[allow(dead_code)] tokio::sync::SemaphorePermit<'static>);

/// Waits for a turn to hash.
pub async fn turn() -> anyhow::Result<Turn> {
    // Only a closed semaphore refuses, and this one is never closed.
    let permit = hashers().turns.acquire().await?;
    Ok(Turn(permit))
}

impl Turn {
    /// Runs `work` (a password hash or check) on a hashing thread.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        on_hashing_thread(work).await
    }
}
