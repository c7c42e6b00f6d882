// A server-shaped program whose objects come from its own allocators
// (pool.h): four workers parse requests into per-thread arenas and open
// sessions from a shared pool, closing half of them. Built with the pass
// told about arena_alloc, pool_alloc and pool_free (README.md), the report
// shows each object at the line that asked for it, the sessions left open
// as live at exit, and the arenas' chunks and the pool's slabs once, under
// pool.cpp. Without it, only the chunks and slabs.
//   custom-pool [workers] [requests]
#include "pool.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

struct Header {
  char method[8];
  char path[32];
  long length;
};
struct Session {
  long id;
  char user[48];
  long expires;
};

Pool *g_sessions;

__attribute__((noinline)) Header *parse_header(Arena *arena, int request) {
  Header *header = static_cast<Header *>(arena_alloc(arena, sizeof(Header)));
  std::snprintf(header->path, sizeof(header->path), "/item/%d", request);
  header->length = 100;
  return header;
}

__attribute__((noinline)) char *parse_body(Arena *arena, const Header *header) {
  char *body = static_cast<char *>(arena_alloc(arena, header->length));
  std::memset(body, 'x', header->length);
  return body;
}

__attribute__((noinline)) Session *open_session(int request) {
  Session *session =
      static_cast<Session *>(pool_alloc(g_sessions, sizeof(Session)));
  session->id = request;
  return session;
}

__attribute__((noinline)) void close_session(Session *session) {
  pool_free(g_sessions, session);
}

void worker(int requests) {
  Arena *arena = arena_create();
  std::vector<Session *> sessions;
  sessions.reserve(requests);
  for (int request = 0; request < requests; ++request) {
    Header *header = parse_header(arena, request);
    parse_body(arena, header);
    sessions.push_back(open_session(request));
  }
  // Half the sessions are closed; the other half leak.
  for (int request = 0; request < requests; request += 2)
    close_session(sessions[request]);
  // The arena lives as long as the process (its objects have no free).
  (void)arena;
}

int main(int argc, char **argv) {
  int workers = argc > 1 ? std::atoi(argv[1]) : 4;
  int requests = argc > 2 ? std::atoi(argv[2]) : 1000;
  g_sessions = pool_create(sizeof(Session));
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i)
    threads.emplace_back(worker, requests);
  for (std::thread &thread : threads)
    thread.join();
  std::printf("%d workers, %d requests each\n", workers, requests);
  return 0;
}
