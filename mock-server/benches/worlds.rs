//! What a new world costs: the time to create one from the seed, and the memory it keeps.
//!
//! `cargo bench -p understudy --bench worlds [-- COUNT]` creates COUNT (default 10,000) named
//! worlds through the embedding API ([`understudy::Fake::world`], which builds a world the way
//! its first request would), and prints the median creation time over batches of 100 and the
//! bytes each world keeps; then what each vendor costs once a world's state of it first
//! changes (its own copy of the seed). Memory is counted by a counting allocator (bytes live,
//! exact and independent of the machine's load) and by RSS growth (what the kernel sees,
//! allocator slack included).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use understudy::config::Config;
use understudy::{Fake, VendorId};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(measure(count));
}

async fn measure(count: usize) {
    let mut config = Config {
        seed: Some(42),
        ..Config::default()
    };
    config.worlds.max_worlds = count + 2;
    let fake = Fake::builder()
        .config(config)
        .start()
        .await
        .expect("the fake starts");
    let names: Vec<String> = (0..count).map(|n| format!("bench-{n}")).collect();
    // One world first, so lazily built shared parts are not charged to the measured ones.
    drop(fake.world("warm-up").expect("a valid name"));
    let (live_before, rss_before) = (LIVE.load(Ordering::Relaxed), rss_bytes());
    let mut batches = Vec::new();
    for chunk in names.chunks(100) {
        let started = Instant::now();
        for name in chunk {
            drop(fake.world(name).expect("room for every world"));
        }
        batches.push(started.elapsed().as_secs_f64() * 1e6 / chunk.len() as f64);
    }
    let (live_after, rss_after) = (LIVE.load(Ordering::Relaxed), rss_bytes());
    batches.sort_by(f64::total_cmp);
    let median = batches[batches.len() / 2];
    let live = (live_after - live_before) as f64 / count as f64;
    let rss = rss_after.saturating_sub(rss_before) as f64 / count as f64;
    // What a vendor costs once its state in a world first changes: an import of the seed's own
    // export is a change that copies nothing else.
    let world = fake.world("copied").expect("a valid name");
    for vendor in VendorId::ALL {
        let seed = world.vendor_state(vendor);
        let before = LIVE.load(Ordering::Relaxed);
        world
            .store(vendor)
            .import(seed)
            .expect("its own export imports");
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        println!(
            "  {vendor}: its own copy of the seed, {:.1} KiB",
            bytes as f64 / 1024.0
        );
    }
    println!(
        "worlds: {count} created; median {median:.1} µs per world (batches of 100); \
         {:.1} KiB live per world (allocator), {:.1} KiB RSS per world; {} named worlds held",
        live / 1024.0,
        rss / 1024.0,
        fake.worlds()
    );
    fake.stop().await.expect("the fake stops");
}
