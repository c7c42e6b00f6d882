// A small cache and its GoogleTest suite, under a memory budget
// (budget.json). Built with CACHE_REGRESSION, the cache keeps twice as many
// entries: the tests still pass, and the budget catches it.
#include <gtest/gtest.h>

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace {

#ifdef CACHE_REGRESSION
constexpr std::size_t kCapacity = 2048;
#else
constexpr std::size_t kCapacity = 1024;
#endif

class LruCache {
public:
  void put(int key, std::string value) {
    auto found = index_.find(key);
    if (found != index_.end())
      order_.erase(found->second);
    order_.push_front({key, std::move(value)});
    index_[key] = order_.begin();
    if (order_.size() > kCapacity) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }
  const std::string *get(int key) const {
    auto found = index_.find(key);
    return found == index_.end() ? nullptr : &found->second->second;
  }
  std::size_t size() const { return order_.size(); }

private:
  std::list<std::pair<int, std::string>> order_;
  std::unordered_map<int, std::list<std::pair<int, std::string>>::iterator>
      index_;
};

TEST(LruCache, KeepsTheMostRecentEntries) {
  LruCache cache;
  for (int i = 0; i < 10000; ++i)
    cache.put(i, std::string(200, static_cast<char>('a' + i % 26)));
  EXPECT_EQ(cache.size(), kCapacity);
  EXPECT_NE(cache.get(9999), nullptr);
  EXPECT_EQ(cache.get(0), nullptr);
}

} // namespace
