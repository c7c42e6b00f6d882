#include "pool.h"

#include <cstdlib>
#include <mutex>

namespace {
constexpr std::size_t kChunkSize = 1 << 20;
constexpr std::size_t kSlabSize = 64 << 10;
} // namespace

struct Arena {
  char *next = nullptr;
  char *end = nullptr;
  struct Chunk *chunks = nullptr;
};

struct Chunk {
  Chunk *previous;
};

Arena *arena_create() { return new Arena(); }

void *arena_alloc(Arena *arena, std::size_t size) {
  size = (size + 15) & ~std::size_t(15);
  if (!arena->next || arena->next + size > arena->end) {
    // A new chunk, headed by the link to the previous one.
    char *memory = static_cast<char *>(std::malloc(kChunkSize));
    Chunk *chunk = reinterpret_cast<Chunk *>(memory);
    chunk->previous = arena->chunks;
    arena->chunks = chunk;
    arena->next = memory + 16;
    arena->end = memory + kChunkSize;
  }
  void *object = arena->next;
  arena->next += size;
  return object;
}

void arena_destroy(Arena *arena) {
  for (Chunk *chunk = arena->chunks; chunk;) {
    Chunk *previous = chunk->previous;
    std::free(chunk);
    chunk = previous;
  }
  delete arena;
}

struct Pool {
  std::mutex lock;
  std::size_t object_size;
  void *free_list = nullptr;
};

Pool *pool_create(std::size_t object_size) {
  Pool *pool = new Pool();
  pool->object_size =
      object_size < sizeof(void *) ? sizeof(void *) : object_size;
  return pool;
}

void *pool_alloc(Pool *pool, std::size_t size) {
  if (size > pool->object_size)
    return nullptr;
  std::lock_guard<std::mutex> guard(pool->lock);
  if (!pool->free_list) {
    // A new slab, threaded onto the free list.
    char *slab = static_cast<char *>(std::malloc(kSlabSize));
    for (std::size_t at = 0; at + pool->object_size <= kSlabSize;
         at += pool->object_size) {
      *reinterpret_cast<void **>(slab + at) = pool->free_list;
      pool->free_list = slab + at;
    }
  }
  void *object = pool->free_list;
  pool->free_list = *static_cast<void **>(object);
  return object;
}

void pool_free(Pool *pool, void *object) {
  std::lock_guard<std::mutex> guard(pool->lock);
  *static_cast<void **>(object) = pool->free_list;
  pool->free_list = object;
}
