#ifndef WSCRT_COMMON_BLOCK_CACHE_H
#define WSCRT_COMMON_BLOCK_CACHE_H
/*
 * A block cache: an allocator that keeps freed blocks for reuse instead of
 * handing them back to the allocator it wraps, until told to let them go.
 *
 * Made for a connection's outgoing frames, which the sending thread allocates
 * and the event-loop thread frees. With glibc, a stream of such cross-thread
 * frees of 64 KiB blocks makes the sending thread's arena trim its top and
 * fault the pages back in for the next frames: 64 KiB sends with 64 frames
 * queued ran at a sixth of the speed they reach with glibc's trimming turned
 * off (docs/bench-report.md). Reusing the blocks takes malloc out of it.
 *
 * Memory: at most WSCRT_BLOCK_CACHE_MAX_BLOCKS blocks and max_cached_bytes are
 * kept, only blocks of at least min_block_size; wscrt_block_cache_trim gives
 * them all back (the owner calls it once the stream has paused). Thread-safe.
 *
 * Lifetime: reference counted. The owner's reference and every block in use
 * keep the cache; blocks may be released after the owner has let go.
 */
#include <stddef.h>

#include "common/allocator.h"

/* As many as a sender usually keeps in flight, so that a burst of completions is kept whole. */
#define WSCRT_BLOCK_CACHE_MAX_BLOCKS 64

struct wscrt_block_cache;

struct wscrt_block_cache *wscrt_block_cache_new(struct wscrt_allocator *wrapped, size_t min_block_size,
                                                size_t max_cached_bytes);
/* The allocator to acquire blocks from; valid while the cache is. */
struct wscrt_allocator *wscrt_block_cache_allocator(struct wscrt_block_cache *cache);
/* Bytes of the blocks kept for reuse now (not those in use). */
size_t wscrt_block_cache_cached_bytes(struct wscrt_block_cache *cache);
/* Gives every kept block back to the wrapped allocator. */
void wscrt_block_cache_trim(struct wscrt_block_cache *cache);
/* Lets go of the owner's reference; the cache goes when its last block in use is released. NULL is ignored. */
void wscrt_block_cache_release(struct wscrt_block_cache *cache);

#endif
