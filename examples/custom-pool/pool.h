// Two allocators of the kind that hide their callers from a heap profiler:
// a bump arena over 1 MiB chunks and a free-list pool of fixed-size objects
// over 64 KiB slabs. Both get their memory from malloc, a chunk at a time.
#pragma once

#include <cstddef>

struct Arena;
Arena *arena_create();
/// size bytes from the thread's arena (16-byte aligned); freed only with the
/// arena.
void *arena_alloc(Arena *arena, std::size_t size);
void arena_destroy(Arena *arena);

struct Pool;
/// A pool of objects of object_size bytes, shared by threads.
Pool *pool_create(std::size_t object_size);
/// An object of at most the pool's object size.
void *pool_alloc(Pool *pool, std::size_t size);
void pool_free(Pool *pool, void *object);
