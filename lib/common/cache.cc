#include "lib/common/cache.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace convkit {
namespace {

constexpr int64_t kMinCache = int64_t{8} << 10;
constexpr int64_t kMaxCache = int64_t{64} << 20;

bool Plausible(int64_t bytes) { return bytes >= kMinCache && bytes <= kMaxCache; }
bool PlausibleWays(int64_t ways) { return ways >= 1 && ways <= 64; }

// "48K", "2M", "32768" -> bytes; 0 if malformed.
int64_t ParseBytes(const std::string& s) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || v <= 0) return 0;
  int64_t scale = 1;
  if (*end == 'K' || *end == 'k') {
    scale = 1024;
    ++end;
  } else if (*end == 'M' || *end == 'm') {
    scale = 1024 * 1024;
    ++end;
  }
  return *end == '\0' ? static_cast<int64_t>(v) * scale : 0;
}

std::string ReadLine(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  char buf[64] = {};
  const bool ok = std::fgets(buf, sizeof(buf), f) != nullptr;
  std::fclose(f);
  if (!ok) return "";
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Linux sysfs: index<i>/{level,type,size or ways_of_associativity} of cpu0.
int64_t SysfsCache(int level, bool data, const char* field = "size") {
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string lv = ReadLine(dir + "level");
    if (lv.empty()) break;
    if (std::atoi(lv.c_str()) != level) continue;
    const std::string type = ReadLine(dir + "type");
    if (data ? (type != "Data" && type != "Unified") : type != "Unified") continue;
    return ParseBytes(ReadLine(dir + field));
  }
  return 0;
}

CacheSizes Detect() {
  CacheSizes c;
  if (const char* env = std::getenv("CONVKIT_CACHE")) {
    const std::string s(env);
    const size_t comma = s.find(',');
    if (comma != std::string::npos) {
      c.l1d = ParseBytes(s.substr(0, comma));
      const size_t comma2 = s.find(',', comma + 1);
      c.l2 = ParseBytes(s.substr(comma + 1, comma2 == std::string::npos ? std::string::npos
                                                                         : comma2 - comma - 1));
      c.l1d_ways = comma2 == std::string::npos ? 8 : ParseBytes(s.substr(comma2 + 1));
    }
  }
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  if (!Plausible(c.l1d)) c.l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  if (!Plausible(c.l2)) c.l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
#if defined(_SC_LEVEL1_DCACHE_ASSOC)
  if (!PlausibleWays(c.l1d_ways)) c.l1d_ways = sysconf(_SC_LEVEL1_DCACHE_ASSOC);
#endif
  if (!PlausibleWays(c.l1d_ways)) c.l1d_ways = SysfsCache(1, true, "ways_of_associativity");
  if (!PlausibleWays(c.l1d_ways)) c.l1d_ways = 8;
  if (!Plausible(c.l1d)) c.l1d = SysfsCache(1, true);
  if (!Plausible(c.l2)) c.l2 = SysfsCache(2, false);
  if (!Plausible(c.l1d)) c.l1d = int64_t{32} << 10;
  if (!Plausible(c.l2)) c.l2 = int64_t{512} << 10;
  return c;
}

}  // namespace

CacheSizes GetCacheSizes() {
  static const CacheSizes sizes = Detect();
  return sizes;
}

int64_t L1dWayBytes(const CacheSizes& c) {
  if (c.l1d_ways <= 0 || c.l1d % c.l1d_ways != 0) return 0;
  const int64_t way = c.l1d / c.l1d_ways;
  return way >= 64 && (way & (way - 1)) == 0 ? way : 0;
}

}  // namespace convkit
